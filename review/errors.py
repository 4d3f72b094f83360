class BadInput(Exception):
    """Bad user input: the CLI prints it on one line and exits 2."""


class PackError(RuntimeError):
    """The policy pack failed to start or failed an RPC (a bug in the pack, not bad input). The CLI
    prints it on one line and exits 2: a failure must never read as a verdict (exit 1)."""
