"""data-residency-region: every AWS/GCP resource's region or location, and every KMS key it
names, lies inside the boundary; a stack declares one regime."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel

from ._attribution import (
    Boundary,
    Conflict,
    Located,
    NoBoundary,
    Placement,
    Subject,
    all_subjects,
    analysis_boundary,
    describe,
    key_placements,
    place,
    stack_boundary,
    stack_urn,
)
from ._policy import RESIDENCY_SCHEMA, Finding, declared_and_stack_policy, finding
from ._regions import inside

NAME = "data-residency-region"
REMEDIATION = (
    "declare the resource through the stack's ResidencyBoundary providers (pinned to the boundary's region) "
    "and do not override `region`/`location` (or use a KMS key) outside it; "
    "`python -m review regions --regime <regime>` lists the allowed ones"
)
CONFLICT_REMEDIATION = (
    "give every provider of the stack the data-residency tag/label of its one ResidencyBoundary "
    "(or set `regime` in the policy config); a stack lives in one regime"
)

def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    """The stack against its one boundary: each resource's declared inputs, then its outputs, then
    its provider's inputs and outputs (`place`), and the KMS keys it names."""
    bounds = stack_boundary(config, resources)
    if isinstance(bounds, Conflict):
        problem = f"the stack's providers and boundary span several regimes ({bounds.describe()})"
        yield Finding(stack_urn(resources), f"{problem}. Remediation: {CONFLICT_REMEDIATION}")
        return
    if isinstance(bounds, NoBoundary):
        if bounds.declared:  # a regime nobody can check against must not pass as "no regime"
            problem = f"the stack declares a boundary the pack cannot check against: {bounds.reason}"
            yield Finding(stack_urn(resources), f"{problem}. Remediation: {CONFLICT_REMEDIATION}")
        return  # otherwise data-residency-unverifiable says the pack could not tell the regime
    for subject in all_subjects(resources):
        yield from judge_all(subject, bounds)


def judge_all(subject: Subject, bounds: Boundary) -> list[Finding]:
    """The verdicts on where a cloud resource keeps its data and its keys."""
    placement = place(subject)
    found = judge(subject, placement, bounds) if placement is not None else []
    for what, placement in key_placements(subject):
        found += judge(subject, placement, bounds, what=what)
    return found


def judge(subject: Subject, placement: Placement, bounds: Boundary, what: str = "") -> list[Finding]:
    """The verdict on one placement against an already-resolved boundary. Its topic (what is
    placed, and where) is the same in Analyze and AnalyzeStack: one report for one fact."""
    label = what or "region"
    if isinstance(placement, Located):
        if inside(placement.location, bounds.countries):
            return []
        subject_text = f"its {what} is in" if what else f"its {placement.source} is"
        problem = f"{subject_text} {describe(placement)}, outside {bounds.describe()}"
        return [finding(subject, problem, REMEDIATION, topic=f"{label} in {placement.location.name}")]
    return [finding(subject, f"cannot verify its {label}: {placement.reason}", REMEDIATION, certain=placement.certain,
                    topic=f"{label} outside the catalog")]


def check_declared(subject: Subject, config: Mapping[str, Any]) -> Iterable[Finding]:
    """Analyze: what the resource's inputs and its provider's inputs already prove, when the
    boundary is settled before the stack exists (`analysis_boundary`)."""
    bounds = analysis_boundary(config, subject)
    return judge_all(subject, bounds) if bounds is not None else ()


POLICY = declared_and_stack_policy(
    NAME,
    "Every AWS/GCP resource's region or location (its own, else its provider's; as declared, else as the "
    "cloud reports it), and every KMS key it names, lies inside the stack's data-residency boundary; "
    "a stack's providers and boundary declare one regime.",
    EnforcementLevel.MANDATORY,
    check,
    check_declared,
    REMEDIATION,
    RESIDENCY_SCHEMA,
)
