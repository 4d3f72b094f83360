"""`python -m review preview --stack NAME | --all [--out DIR]`: the fleet, previewed offline and judged.

Each stack runs under the SDK's mocks (hubs first), then the policy pack judges what it declared
through the Analyzer protocol (review/fleet_review.py). Writes <stack>.json exports of the stacks
that previewed, and the report (review/outputs.py): report.json (with its JSON Schema,
report.schema.json) and report.md for `--all`, report-<stacks>.json/.md for `--stack` (a partial
run never replaces the fleet's report).

Exit codes: 1 when any mandatory policy fails (failed programs included); else 2 when a program
failed or the input is bad (a bad stack file stops before anything is written); else 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from review import provenance, report, stacks
from review.errors import BadInput
from review.fleet_review import review_fleet
from review.outputs import error_lines, report_name, write_outputs

FORMATS = ("text", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "exit codes: 0 clean; 1 a mandatory policy fails (also over what a failed program declared); "
        "2 a program failed, or bad input (one-line error)"
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", action="append", metavar="NAME",
                       help="stack to preview (repeatable); an edge's hub is previewed first")
    which.add_argument("--all", action="store_true", help="every Pulumi.<stack>.yaml in the project, hubs first")
    parser.add_argument("--out", type=Path, default=Path("out"), metavar="DIR",
                        help="where to write <stack>.json (stack-export shape) and the report: "
                        "report.json/.md for --all, report-<stack>[+<stack>...].json/.md for --stack "
                        "(default: out)")
    parser.add_argument("--stacks-dir", type=Path, default=None, metavar="DIR",
                        help="directory holding the Pulumi.<stack>.yaml files (default: the project root)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text: a progress line per stack and a summary line; json: the report "
                        "(report.json's content) on stdout, progress lines on stderr (default: text)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress or summary lines; why the review fails (a program's error, "
                        "mandatory violations) still goes to stderr")


def run(args: argparse.Namespace) -> int:
    names = stacks.stack_names(args.stacks_dir) if args.all else args.stack
    if not names:
        raise BadInput(f"no Pulumi.<stack>.yaml in {args.stacks_dir or 'the project'}")
    text = args.format == "text"
    channel = sys.stdout if text else sys.stderr
    say = None if args.quiet else (lambda line: print(line, file=channel, flush=True))
    outcomes, results = review_fleet(names, progress=say, stacks_dir=args.stacks_dir)
    document = report.build(outcomes, provenance.collect(stacks.project_root()))
    name = report_name(None if args.all else args.stack)
    write_outputs(results, document, args.out, name)
    for line in error_lines(document):
        print(f"error: {line}", file=sys.stderr)
    if not text:
        print(json.dumps(document, indent=2, sort_keys=True))
    if say:
        say(f"{report.summary_text(document)}; report in {args.out / name}.md")
    return document["summary"]["exitCode"]
