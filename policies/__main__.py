"""The `obsfleet-residency` policy pack. The engine runs `python -m pulumi.policy <engine> .` with
the pack directory as cwd, so `obsfleet_residency` (next to this file) is importable as is."""

from obsfleet_residency.pack import serve

serve()
