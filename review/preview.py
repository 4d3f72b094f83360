"""`python -m review preview --stack NAME | --all [--out DIR]`: the fleet, previewed offline and judged.

Each stack runs under the SDK's mocks (hubs first), then the policy pack judges what it declared
through the Analyzer protocol (review/analyzer.py). A program that refuses its config (an edge
pointed at another regime's hub) does not stop the review: the stack is reported with its error,
the pack judges what it declared before failing, and edges of a failed hub are reported as not
previewed. Writes <stack>.json exports of the stacks that previewed, and the report: report.json
(with its JSON Schema, report.schema.json) and report.md for `--all`, report-<stacks>.json/.md for
`--stack` (a partial run never replaces the fleet's report). Timings go to the progress lines only:
the same stacks write the same bytes.

Exit codes: 1 when any mandatory policy fails (failed programs included); else 2 when a program
failed or the input is bad (a bad stack file stops before anything is written); else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

from components.storage import ACCESS_LOG_RETENTION_DAYS
from review import analyzer, engine, provenance, report, stacks
from review.errors import BadInput
from review.report_schema import REPORT_SCHEMA
from review.stacks import PROJECT, StackConfig

FORMATS = ("text", "json")
Progress = Optional[Callable[[str], None]]


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


Run = Union[engine.PreviewResult, engine.ProgramError, None]


def _run_fleet(names: list[str], stacks_dir: Path | None) -> Iterator[tuple[StackConfig, Run]]:
    """Each stack with its result, hubs first: a PreviewResult, the ProgramError it failed with,
    or None when its hub failed (its StackReference would have nothing to read)."""
    references: dict[str, tuple[dict[str, Any], frozenset[str]]] = {}
    stopped: set[str] = set()
    for stack in stacks.ordered(names, stacks_dir):
        if stack.hub in stopped:
            stopped.add(stack.name)
            yield stack, None
            continue
        try:
            result = engine.preview(stack, references)
        except engine.ProgramError as err:
            stopped.add(stack.name)
            yield stack, err
            continue
        references[stack.name] = (result.outputs, result.secret_outputs)
        yield stack, result


def preview_fleet(
    names: list[str], *, progress: Progress = None, stacks_dir: Path | None = None
) -> list[engine.PreviewResult]:
    """Preview `names` (and the hubs they reference), hubs first; edges see their hub's outputs.
    The first program error is raised (BadInput)."""
    results: list[engine.PreviewResult] = []
    for _stack, result in _run_fleet(names, stacks_dir):
        if not isinstance(result, engine.PreviewResult):
            raise result  # a ProgramError: a stack is only skipped after its hub raised one
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


def policy_config(stack: StackConfig) -> dict[str, Any]:
    """The pack's config for this stack: its regime and residency overrides, and for a hub the
    longest time any of its buckets keeps objects (its retention, the access logs')."""
    residency = stack.settings.residency
    values: dict[str, Any] = {"regime": stack.settings.regime.value}
    if residency.allowed_countries is not None:
        values["allowedCountries"] = list(residency.allowed_countries)
    if residency.allow_adequacy:
        values["allowAdequacy"] = True
    retention = getattr(stack.settings, "retention", None)
    if retention is not None:
        values["retentionDays"] = max(retention.metrics, retention.logs, retention.traces, ACCESS_LOG_RETENTION_DAYS)
    return {"all": values}


def review_fleet(
    names: list[str], *, progress: Progress = None, stacks_dir: Path | None = None
) -> tuple[list[report.StackOutcome], list[engine.PreviewResult]]:
    """Preview and judge every stack, failed programs included: (outcomes for the report,
    previews of the stacks that succeeded, for their exports). One pack process judges them all
    (started when the first stack needs it): its start-up is ~0.3 s, a stack's judging far less."""
    outcomes: list[report.StackOutcome] = []
    results: list[engine.PreviewResult] = []
    with contextlib.ExitStack() as cleanup:
        pack: Optional[analyzer.PackProcess] = None
        for stack, result in _run_fleet(names, stacks_dir):
            if isinstance(result, engine.PreviewResult):
                results.append(result)
                outcome = report.StackOutcome(stack, result.resources)
                line = summary_line(result)
            elif isinstance(result, engine.ProgramError):
                outcome = report.StackOutcome(stack, result.resources, error=str(result))
                declared = sum(1 for r in result.resources if r["custom"])
                line = f"{stack.name}: program failed after declaring {declared} resources, {result.seconds:.1f}s"
            else:
                error = f"not previewed: its hub stack '{stack.hub}' failed"
                outcome = report.StackOutcome(stack, error=error, previewed=False)
                line = f"{stack.name}: {error}"
            if outcome.previewed:
                if pack is None:
                    pack = cleanup.enter_context(analyzer.PackProcess(project=PROJECT, stack=stack.name))
                outcome.violations = pack.run(outcome.resources, policy_config(stack), stack=stack.name)
                outcome.policies = dict(pack.policies_run)
                levels = Counter(v.enforcement for v in outcome.violations)
                line += f"; {levels['mandatory']} mandatory, {levels['advisory']} advisory violations"
            outcomes.append(outcome)
            if progress:
                progress(line)
    return outcomes, results


def report_name(stacks_asked: Optional[list[str]]) -> str:
    """`report` for the whole fleet, `report-<stack>[+<stack>...]` for the stacks asked for."""
    return "report" if stacks_asked is None else "report-" + "+".join(sorted(set(stacks_asked)))


def write_outputs(results: list[engine.PreviewResult], document: dict[str, Any], out: Path, name: str = "report") -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            (out / f"{result.stack}.json").write_text(json.dumps(result.export(), indent=2, sort_keys=True) + "\n")
        (out / f"{name}.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        (out / f"{name}.md").write_text(report.markdown(document))
        (out / "report.schema.json").write_text(json.dumps(REPORT_SCHEMA, indent=2, sort_keys=True) + "\n")
    except OSError as err:
        raise BadInput(f"--out {out}: {err.strerror}") from None


def error_lines(document: dict[str, Any]) -> Iterator[str]:
    """Why the review fails, printed even under --quiet (a CI log must say why it stopped): a failed
    program's error (it explains its stack), else each of the stack's mandatory violations."""
    for stack in document["stacks"]:
        if stack["status"] == "failed":
            yield stack["error"]
            continue
        for violation in stack["violations"]:
            if violation["enforcement"] == "mandatory":
                yield f"{stack['name']}: {violation['policy']}: {report.finding_detail(violation['finding'])}"


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
