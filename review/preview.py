"""`python -m review preview --stack NAME | --all [--out DIR]`: the fleet, previewed offline."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from review import engine, stacks
from review.errors import BadInput


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", action="append", metavar="NAME",
                       help="stack to preview (repeatable); an edge's hub is previewed first")
    which.add_argument("--all", action="store_true", help="every Pulumi.<stack>.yaml in the project, hubs first")
    parser.add_argument("--out", type=Path, default=Path("out"), metavar="DIR",
                        help="where to write <stack>.json (stack-export shape) (default: out)")
    parser.add_argument("--stacks-dir", type=Path, default=None, metavar="DIR",
                        help="directory holding the Pulumi.<stack>.yaml files (default: the project root)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only errors")


def preview_fleet(
    names: list[str], *, progress: Callable[[str], None] | None = None, stacks_dir: Path | None = None
) -> list[engine.PreviewResult]:
    """Preview `names` (and the hubs they reference), hubs first; edges see their hub's outputs."""
    results: list[engine.PreviewResult] = []
    references: dict[str, tuple[dict[str, Any], frozenset[str]]] = {}
    for stack in stacks.ordered(names, stacks_dir):
        result = engine.preview(stack, references)
        references[stack.name] = (result.outputs, result.secret_outputs)
        results.append(result)
        if progress:
            progress(summary_line(result))
    return results


def summary_line(result: engine.PreviewResult) -> str:
    kinds = Counter("component" if not r["custom"] else "resource" for r in result.resources[1:])
    return (
        f"{result.stack}: {kinds['resource']} resources, {kinds['component']} components, "
        f"{result.seconds:.1f}s"
    )


def write_exports(results: list[engine.PreviewResult], out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            (out / f"{result.stack}.json").write_text(json.dumps(result.export(), indent=2, sort_keys=True))
    except OSError as err:
        raise BadInput(f"--out {out}: {err.strerror}") from None


def run(args: argparse.Namespace) -> int:
    names = stacks.stack_names(args.stacks_dir) if args.all else args.stack
    if not names:
        raise BadInput(f"no Pulumi.<stack>.yaml in {args.stacks_dir or 'the project'}")
    say = None if args.quiet else (lambda line: print(line, flush=True))
    results = preview_fleet(names, progress=say, stacks_dir=args.stacks_dir)
    write_exports(results, args.out)
    if say:
        say(f"previewed {len(results)} stacks; exports in {args.out}/")
    return 0
