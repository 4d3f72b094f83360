"""data-residency-unverifiable (advisory): what the residency policies could not check, and why."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from . import data_residency_flow, data_residency_region, data_residency_replication
from ._attribution import Boundary, NoBoundary, all_subjects, stack_boundary, stack_urn
from ._policy import RESIDENCY_SCHEMA, Finding, unverifiable_policy

NAME = "data-residency-unverifiable"
REMEDIATION = (
    "set `regime` in the policy config, or declare the resources through the stack's ResidencyBoundary "
    "providers (their data-residency tag/label names the regime)"
)


def regions(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    """data-residency-region over the stack; when the stack's regime is unknown, one finding saying so."""
    bounds = stack_boundary(config, resources)
    subjects = all_subjects(resources)
    if isinstance(bounds, Boundary):
        for subject in subjects:
            yield from data_residency_region.judge_all(subject, bounds)
    elif isinstance(bounds, NoBoundary) and subjects and not bounds.declared:  # declared: a region violation
        names = [subject.name for subject in subjects]
        message = (
            f"residency was not checked for {len(names)} resource(s) ({', '.join(names[:3])}"
            f"{', ...' if len(names) > 3 else ''}): {bounds.reason}. Remediation: {REMEDIATION}"
        )
        yield Finding(stack_urn(resources), message, certain=False)


POLICY = unverifiable_policy(
    NAME,
    "Residency facts the mandatory data-residency policies cannot verify: regions, replication destinations "
    "or hub regimes unknown during preview or secret, and stacks whose regime the pack could not tell.",
    [regions, data_residency_replication.check, data_residency_flow.check],
    RESIDENCY_SCHEMA,
)
