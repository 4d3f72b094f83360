"""Maintenance scripts (code generation); not imported by the program, the pack or the review."""
