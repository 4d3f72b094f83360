"""data-residency-flow: a stack only reads (and so ships telemetry to) stacks of its own regime."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from pulumi_policy import EnforcementLevel

from ._attribution import Boundary, NoBoundary, Subject, stack_boundary
from ._policy import RESIDENCY_SCHEMA, Finding, finding, stack_policy
from ._regions import Regime
from ._values import UNKNOWN, dig, text

NAME = "data-residency-flow"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
REMEDIATION = (
    "point obsfleet:hubStack at a hub stack of this stack's regime, or move the stack into the regime "
    "of the hub it ships to"
)


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    references = [Subject(r) for r in resources if r.resource_type == STACK_REFERENCE]
    if not references:
        return
    bounds = stack_boundary(config, resources)
    ours = bounds.regime if isinstance(bounds, Boundary) else NoBoundary(
        bounds.reason if isinstance(bounds, NoBoundary) else f"it spans several regimes ({bounds.describe()})")
    for reference in references:
        name = text(reference.get("name"))
        verdict = _judge(ours, name if isinstance(name, str) else reference.name, text(dig(reference.get("outputs"), "regime")))
        if verdict is not None:
            problem, certain = verdict
            yield finding(reference, problem, REMEDIATION, certain=certain)


def _judge(ours: Union[Regime, NoBoundary], stack: str, theirs: Any) -> Optional[tuple[str, bool]]:
    """(problem, certain) when the flow to `stack` is out of the boundary or cannot be verified."""
    if isinstance(ours, NoBoundary):
        return f"cannot compare regimes with stack {stack}: this stack's regime is unknown ({ours.reason})", False
    if theirs is UNKNOWN:
        return f"cannot verify the flow: stack {stack}'s `regime` output is secret or not known yet", False
    if theirs is None:
        return f"cannot verify the flow: stack {stack} exports no `regime`", False
    if theirs.lower() != ours.value:
        return (
            f"this {ours.value} stack reads stack {stack}, whose regime is {theirs!r}: "
            f"its telemetry would leave the {ours.value} boundary"
        ), True
    return None


POLICY = stack_policy(
    NAME,
    "Every StackReference (the hub an edge ships its telemetry to) exports the same `regime` as this stack.",
    EnforcementLevel.MANDATORY,
    check,
    REMEDIATION,
    RESIDENCY_SCHEMA,
)
