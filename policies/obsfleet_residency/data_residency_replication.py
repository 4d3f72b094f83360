"""data-residency-replication: S3 replication, in any form, only copies data to buckets of this
stack inside the boundary."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel

from ._attribution import Boundary, Located, Subject, describe, place, stack_boundary
from ._buckets import AWS_BUCKETS, REPLICATION, Bucket, Buckets, buckets_of, flat, kind_of
from ._policy import RESIDENCY_SCHEMA, Finding, finding, stack_policy
from ._regions import inside
from ._values import Unknown, dig, each, items, text

NAME = "data-residency-replication"
REMEDIATION = (
    "replicate only to a bucket declared in this stack through the boundary's replica provider, in a region "
    "inside the boundary (obsfleet:replicaRegion); `python -m review regions --regime <regime>` lists them"
)
INLINE_KEYS = ("replicationConfiguration", "replicationConfigurations")


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    bounds = stack_boundary(config, resources)
    if not isinstance(bounds, Boundary):
        return  # data-residency-unverifiable / data-residency-region report a stack without one regime
    buckets = buckets_of(resources)
    for replication in buckets.configs:
        if kind_of(replication.type) == REPLICATION:
            sources = buckets.linked(replication, "bucket", replication.get("bucket"))
            yield from _judge(replication, "rules", replication.get("rules"), sources, buckets, bounds)
    for bucket in buckets.all:
        if bucket.subject.type in AWS_BUCKETS:
            for setting in _inline(bucket):
                yield from _judge(bucket.subject, INLINE_KEYS[0], each(setting, "rules"), [bucket], buckets, bounds)


def _inline(bucket: Bucket) -> list[Any]:
    """Inline replication settings, as declared and as the outputs report them: both move data."""
    found = [bucket.subject.declared(key) for key in INLINE_KEYS] + [bucket.subject.get(key) for key in INLINE_KEYS]
    return [setting for setting in flat(found) if setting]


def _judge(
    subject: Subject, key: str, rules: Any, sources: list[Bucket], buckets: Buckets, bounds: Boundary
) -> Iterable[Finding]:
    listed = items(rules)
    if isinstance(listed, Unknown):
        yield finding(subject, "cannot verify where it replicates to: its rules are not known yet", REMEDIATION, certain=False)
        return
    for rule in listed:
        for destination in _destinations(rule):
            yield from _judge_destination(subject, key, destination, sources, buckets, bounds)


def _destinations(rule: Any) -> list[Any]:
    found = each(rule, "destination", "destinations")
    return [dig(target, "bucket") for target in found] if isinstance(found, list) else [found]


def _judge_destination(
    subject: Subject, key: str, destination: Any, sources: list[Bucket], buckets: Buckets, bounds: Boundary
) -> Iterable[Finding]:
    name = text(destination)
    if isinstance(name, str):
        targets = buckets.named(name)
        if not targets:
            problem = (f"it replicates to bucket {name!r}, which this stack does not declare: its region, and so "
                       f"whether the copy stays inside {bounds.describe()}, cannot be verified")
            yield finding(subject, problem, REMEDIATION)
            return
    else:  # not known yet (preview): the buckets the rules depend on
        targets = [bucket for bucket in buckets.dependencies(subject, key) if bucket not in sources]
        if not targets:
            problem = "cannot verify where it replicates to: its destination is not known yet"
            yield finding(subject, problem, REMEDIATION, certain=False)
            return
    for target in targets:
        placement = place(target.subject)
        where = target.subject.name
        if isinstance(placement, Located):
            if not inside(placement.location, bounds.countries):
                problem = f"it replicates to bucket '{where}' in {describe(placement)}, outside {bounds.describe()}"
                yield finding(subject, problem, REMEDIATION)
        elif placement is not None:
            problem = f"cannot verify the region of destination bucket '{where}': {placement.reason}"
            yield finding(subject, problem, REMEDIATION, certain=placement.certain)


POLICY = stack_policy(
    NAME,
    "S3 replication (BucketReplicationConfig and the buckets' inline replication settings) copies data only to "
    "buckets of this stack whose region lies inside the stack's data-residency boundary.",
    EnforcementLevel.MANDATORY,
    check,
    REMEDIATION,
    RESIDENCY_SCHEMA,
)
