"""data-residency-region: every AWS/GCP resource's region or location lies inside the boundary."""

from __future__ import annotations

from typing import Any, Mapping

from pulumi_policy import EnforcementLevel

from ._attribution import Boundary, Located, NoBoundary, Placement, Subject, boundary, describe, place
from ._policy import RESIDENCY_SCHEMA, Finding, finding, resource_policy
from ._regions import inside

NAME = "data-residency-region"
REMEDIATION = (
    "declare the resource through the stack's ResidencyBoundary providers (pinned to the boundary's region) "
    "and do not override `region`/`location` with one outside it; "
    "`python -m review regions --regime <regime>` lists the allowed ones"
)


def check(subject: Subject, config: Mapping[str, Any]) -> list[Finding]:
    placement = place(subject)
    if placement is None:
        return []
    bounds = boundary(config, subject)
    if isinstance(bounds, NoBoundary):
        return []  # data-residency-unverifiable reports unchecked resources once per stack
    return judge(subject, placement, bounds)


def judge(subject: Subject, placement: Placement, bounds: Boundary) -> list[Finding]:
    """The verdict on a cloud resource's placement against its already-resolved boundary."""
    if isinstance(placement, Located):
        if inside(placement.location, bounds.countries):
            return []
        problem = f"its {placement.source} is {describe(placement)}, outside {bounds.describe()}"
        return [finding(subject, problem, REMEDIATION)]
    return [finding(subject, f"cannot verify its region: {placement.reason}", REMEDIATION, certain=placement.certain)]


POLICY = resource_policy(
    NAME,
    "Every AWS/GCP resource's region or location (its own, else its provider's) lies inside the "
    "stack's data-residency boundary.",
    EnforcementLevel.MANDATORY,
    check,
    REMEDIATION,
    RESIDENCY_SCHEMA,
)
