"""How a review command ends: its exit code, and the bad input that ends it with 2."""

from enum import IntEnum


class ExitCode(IntEnum):
    """`python -m review`'s exit status, for every command."""

    OK = 0
    VIOLATION = 1
    """A mandatory policy fails (also over what a failed program declared)."""
    ERROR = 2
    """Bad input (a one-line error), a program that failed, or a policy pack that failed."""


class BadInput(Exception):
    """Bad user input: the CLI prints it on one line and exits 2."""


class PackError(RuntimeError):
    """The policy pack failed to start or failed an RPC (a bug in the pack, not bad input). The CLI
    prints it on one line and exits 2: a failure must never read as a verdict (exit 1)."""
