"""The fleet under review: each stack previewed under mocks, then judged by one policy-pack
process; a line per stack for the progress output.

Stacks run in the onboarding order of a new fleet: every edge once against a hub that has not run
(it declares its key and exports its certificate request), then the hubs (each signs the requests
of the edges it lists), then the edges again (each deploys with its certificate, seeing its hub's
outputs; that run is the one reported). An edge its hub has no certificate for is reported as
waiting, which is not a failure. A program that refuses its config (an edge pointed at another
regime's hub) does not stop the review: the stack is reported with its error, the pack judges
what it declared before failing, and edges of a failed hub are reported as not previewed.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

from components.edge import ONBOARDING, READY
from components.storage import ACCESS_LOG_RETENTION_DAYS
from review import analyzer, engine, stacks
from review.model import StackOutcome
from review.stacks import PROJECT, StackConfig

RESIDENCY_POLICIES = "data-residency-"
"""The pack's policies judging where data is and goes, true of any part of a stack."""

Progress = Optional[Callable[[str], None]]


Run = Union[engine.PreviewResult, engine.ProgramError, None]


References = dict[str, tuple[dict[str, Any], frozenset[str]]]
NOT_RUN: tuple[dict[str, Any], frozenset[str]] = ({}, frozenset())
"""A stack that exists but has never run: it exports nothing."""


def _requests(edges: list[StackConfig], hubs: list[StackConfig]) -> tuple[References, dict[str, engine.ProgramError]]:
    """Each edge's first run, against hubs that have not run: its outputs (the certificate request
    its hub reads), or the error it failed with."""
    before_hubs: References = {hub.name: NOT_RUN for hub in hubs}
    outputs: References = {}
    failed: dict[str, engine.ProgramError] = {}
    for edge in edges:
        try:
            result = engine.preview(edge, before_hubs)
        except engine.ProgramError as err:
            failed[edge.name] = err
            continue
        outputs[edge.name] = (result.outputs, result.secret_outputs)
    return outputs, failed


def _run_fleet(names: list[str], stacks_dir: Path | None) -> Iterator[tuple[StackConfig, Run]]:
    """Each stack with its result, hubs first: a PreviewResult, the ProgramError it failed with,
    or None when its hub failed (its StackReference would have nothing to read)."""
    fleet = stacks.ordered(names, stacks_dir)
    hubs = [s for s in fleet if s.is_hub]
    edges = [s for s in fleet if not s.is_hub]
    references, failed = _requests(edges, hubs)
    stopped: set[str] = set(failed)
    for stack in hubs + edges:
        if stack.name in failed:
            yield stack, failed[stack.name]
            continue
        if stack.hub in stopped:
            stopped.add(stack.name)
            yield stack, None
            continue
        try:
            result = engine.preview(stack, {**{e: NOT_RUN for e in failed}, **references})
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


def waiting(result: engine.PreviewResult) -> Optional[str]:
    """What an edge waits for (its `onboarding` output), or None when it is deployed or a hub."""
    state = result.outputs.get(ONBOARDING)
    return None if state in (None, READY) else str(state)


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


def _judge(pack: analyzer.PackProcess, outcome: StackOutcome, config: dict[str, Any]) -> list[analyzer.Violation]:
    """The pack's verdict on a stack. A failed program's resources are a partial stack: what
    each resource is judged alone, and where its data goes (the residency policies), hold; what
    the stack as a whole lacks (a bucket's policy, its lifecycle) may simply not be declared yet."""
    partial = outcome.error is not None
    return pack.run(outcome.resources, config, stack=outcome.config.name,
                    stack_findings=_residency if partial else None)


def _residency(violation: analyzer.Violation) -> bool:
    return violation.policy.startswith(RESIDENCY_POLICIES)


def review_fleet(
    names: list[str], *, progress: Progress = None, stacks_dir: Path | None = None
) -> tuple[list[StackOutcome], list[engine.PreviewResult]]:
    """Preview and judge every stack, failed programs included: (outcomes for the report,
    previews of the stacks that succeeded, for their exports). One pack process judges them all
    (started when the first stack needs it): its start-up is ~0.3 s, a stack's judging far less."""
    outcomes: list[StackOutcome] = []
    results: list[engine.PreviewResult] = []
    with contextlib.ExitStack() as cleanup:
        pack: Optional[analyzer.PackProcess] = None
        for stack, result in _run_fleet(names, stacks_dir):
            if isinstance(result, engine.PreviewResult):
                results.append(result)
                outcome = StackOutcome(stack, result.resources, waiting=waiting(result))
                line = summary_line(result) + (f"; {outcome.waiting}" if outcome.waiting else "")
            elif isinstance(result, engine.ProgramError):
                outcome = StackOutcome(stack, result.resources, error=str(result))
                declared = sum(1 for r in result.resources if r["custom"])
                line = f"{stack.name}: program failed after declaring {declared} resources, {result.seconds:.1f}s"
            else:
                error = f"not previewed: its hub stack '{stack.hub}' failed"
                outcome = StackOutcome(stack, error=error, previewed=False)
                line = f"{stack.name}: {error}"
            if outcome.previewed:
                if pack is None:
                    pack = cleanup.enter_context(analyzer.PackProcess(project=PROJECT, stack=stack.name))
                outcome.violations = _judge(pack, outcome, policy_config(stack))
                outcome.policies = dict(pack.policies_run)
                levels = Counter(v.enforcement for v in outcome.violations)
                line += f"; {levels['mandatory']} mandatory, {levels['advisory']} advisory violations"
            outcomes.append(outcome)
            if progress:
                progress(line)
    return outcomes, results
