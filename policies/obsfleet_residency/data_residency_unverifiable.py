"""data-residency-unverifiable (advisory): what the residency policies could not check, and why."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

from . import data_residency_flow, data_residency_region, data_residency_replication
from ._attribution import NoBoundary, all_subjects, boundary, place, stack_urn
from ._policy import RESIDENCY_SCHEMA, Finding, unverifiable_policy

NAME = "data-residency-unverifiable"
REMEDIATION = "set `regime` in the policy config, or declare the resources through the stack's ResidencyBoundary providers"


def regions(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    """data-residency-region over the stack, plus one finding per reason resources went unchecked."""
    unchecked: dict[str, list[str]] = defaultdict(list)
    for subject in all_subjects(resources):  # cloud resources only: place() is never None for them
        bounds = boundary(config, subject)
        if isinstance(bounds, NoBoundary):
            unchecked[bounds.reason].append(subject.name)
        else:
            yield from data_residency_region.judge(subject, place(subject), bounds)  # type: ignore[arg-type]
    for reason, names in unchecked.items():
        message = (
            f"residency was not checked for {len(names)} resource(s) ({', '.join(names[:3])}"
            f"{', ...' if len(names) > 3 else ''}): {reason}. Remediation: {REMEDIATION}"
        )
        yield Finding(stack_urn(resources), message, certain=False)


POLICY = unverifiable_policy(
    NAME,
    "Residency facts the mandatory data-residency policies cannot verify: regions, replication destinations "
    "or hub regimes unknown during preview or secret, and resources no regime applies to.",
    [regions, data_residency_replication.check, data_residency_flow.check],
    RESIDENCY_SCHEMA,
)
