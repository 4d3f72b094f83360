"""data-residency-replication: data copied or routed out of a bucket (S3 replication in any form,
Storage Transfer jobs, Multi-Region Access Points, DataSync tasks) only reaches buckets of this
stack inside the boundary."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel

from ._attribution import Boundary, Located, Placement, describe, place, placement_at, stack_boundary
from ._buckets import buckets_of
from ._copies import Copy, copies, destination_buckets
from ._policy import RESIDENCY_SCHEMA, Finding, finding, stack_policy
from ._regions import Cloud, inside
from ._values import text

NAME = "data-residency-replication"
REMEDIATION = (
    "replicate or transfer only to a bucket declared in this stack through the boundary's providers, in a "
    "region inside the boundary (obsfleet:replicaRegion); `python -m review regions --regime <regime>` lists them"
)


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    bounds = stack_boundary(config, resources)
    if not isinstance(bounds, Boundary):
        return  # data-residency-unverifiable / data-residency-region report a stack without one regime
    for copy in copies(resources):
        yield from _judge(copy, resources, bounds)


def _judge(copy: Copy, resources: Sequence[Any], bounds: Boundary) -> Iterable[Finding]:
    subject, destination = copy.subject, copy.destination
    if destination.outside:
        problem = f"it {copy.what} {destination.outside}, outside every cloud region: it cannot stay inside {bounds.describe()}"
        yield finding(subject, problem, REMEDIATION)
        return
    if destination.unresolved:
        if destination.certain:
            problem = f"{destination.unresolved}: where it {copy.what}, and so whether the copy stays inside " \
                      f"{bounds.describe()}, cannot be verified"
        else:
            problem = f"cannot verify where it {copy.what}: {destination.unresolved}"
        yield finding(subject, problem, REMEDIATION, certain=destination.certain)
        return
    if destination.location:
        yield from _judge_placement(copy, f"a log bucket in {destination.location!r}",
                                    placement_at(Cloud.GCP, "`destination`", destination.location), bounds)
        return
    targets = destination_buckets(buckets_of(resources), copy)
    name = text(destination.bucket)
    if targets is None:
        problem = (f"it {copy.what} bucket {name!r}, which this stack does not declare: its region, and so "
                   f"whether the copy stays inside {bounds.describe()}, cannot be verified")
        yield finding(subject, problem, REMEDIATION)
        return
    if not targets:
        yield finding(subject, f"cannot verify where it {copy.what}: its destination is not known yet", REMEDIATION, certain=False)
        return
    for target in targets:
        placement = place(target.subject)
        if placement is not None:
            yield from _judge_placement(copy, f"bucket '{target.subject.name}'", placement, bounds)


def _judge_placement(copy: Copy, what: str, placement: Placement, bounds: Boundary) -> Iterable[Finding]:
    if isinstance(placement, Located):
        if not inside(placement.location, bounds.countries):
            problem = f"it {copy.what} {what} in {describe(placement)}, outside {bounds.describe()}"
            yield finding(copy.subject, problem, REMEDIATION)
    else:
        problem = f"cannot verify the region of destination {what}: {placement.reason}"
        yield finding(copy.subject, problem, REMEDIATION, certain=placement.certain)


POLICY = stack_policy(
    NAME,
    "Data copied or routed out of a bucket (S3 replication in any form, Storage Transfer jobs, S3 Multi-Region "
    "Access Points, DataSync tasks) or routed by a log sink reaches only buckets of this stack (or log buckets) "
    "whose region lies inside the stack's data-residency boundary.",
    EnforcementLevel.MANDATORY,
    check,
    REMEDIATION,
    RESIDENCY_SCHEMA,
)
