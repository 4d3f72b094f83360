"""obsfleet's CrossGuard policy pack directory (`obsfleet-residency`). Everything the pack runs is
the self-contained `obsfleet_residency` package (relative imports, its own region catalog copy),
so the directory works both published alone and imported by the review as `policies.obsfleet_residency`."""
