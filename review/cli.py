"""Command dispatcher: each subcommand is a module with `add_arguments(parser)` and `run(args) -> int`.

Exit codes (review/errors.py ExitCode): 0 clean, 1 mandatory policy violation, 2 bad input (one line, no
traceback), a failed program or a failed policy pack.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from review.errors import BadInput, ExitCode, PackError

COMMANDS = {
    "preview": ("review.preview", "preview stacks under the Pulumi SDK's mocks, judge them with the policy pack"),
    "audit": ("review.audit", "run the policy pack over a `pulumi stack export` file"),
    "regions": ("review.regions_cmd", "list the region catalog: cloud region -> country -> regimes"),
    "stacks": ("review.stacks_cmd", "list the stacks the Pulumi.<stack>.yaml files define (table, json, CI matrix)"),
    "schema": ("review.schema", "print the JSON Schema of `obsfleet:` stack config (for editors)"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's usage errors are bad input too: exit 2
        raise BadInput(f"{self.prog}: {message}")


def build_parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """The CLI parser; only `command`'s module is imported (the others are listed, not loaded)."""
    parser = _Parser(
        prog="python -m review",
        description="obsfleet offline review (no cloud credentials needed).",
        epilog="exit codes: 0 clean, 1 mandatory policy violation, 2 bad input",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            importlib.import_module(module).add_arguments(child)
        child.set_defaults(module=module)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        command = next((a for a in argv if not a.startswith("-")), None)
        args = build_parser(command).parse_args(argv)
        return importlib.import_module(args.module).run(args)
    except BadInput as err:
        print(f"error: {err}", file=sys.stderr)
        return ExitCode.ERROR
    except PackError as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return ExitCode.ERROR
    except BrokenPipeError:
        # `python -m review ... | head`: the reader left; that is not an error of ours.
        sys.stderr.close()
        return ExitCode.OK
