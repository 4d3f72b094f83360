"""data-residency-replication: S3 replication only copies data to buckets inside the boundary."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel

from ._attribution import Located, NoBoundary, Subject, boundary, describe, place
from ._buckets import AWS_BUCKET, REPLICATION, Bucket, Buckets
from ._policy import RESIDENCY_SCHEMA, Finding, finding, stack_policy
from ._regions import inside
from ._values import Unknown, dig, items, text

NAME = "data-residency-replication"
ARN_PREFIX = "arn:aws:s3:::"
REMEDIATION = (
    "replicate only to a bucket declared in this stack through the boundary's replica provider, in a region "
    "inside the boundary (obsfleet:replicaRegion); `python -m review regions --regime <regime>` lists them"
)


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    buckets = Buckets(resources)
    for replication in buckets.configs:
        if replication.type == REPLICATION:
            sources = buckets.linked(replication, "bucket", replication.get("bucket"))
            yield from _judge(replication, "rules", replication.get("rules"), sources, buckets, config)
    for bucket in buckets.all:
        if bucket.subject.type == AWS_BUCKET:
            rules = dig(bucket.inline("replicationConfiguration"), "rules")
            if rules is not None:
                yield from _judge(bucket.subject, "replicationConfiguration", rules, [bucket], buckets, config)


def _judge(
    subject: Subject, key: str, rules: Any, sources: list[Bucket], buckets: Buckets, config: Mapping[str, Any]
) -> Iterable[Finding]:
    bounds = boundary(config, subject)
    if isinstance(bounds, NoBoundary):
        return  # data-residency-unverifiable reports unchecked resources
    listed = items(rules)
    if isinstance(listed, Unknown):
        yield finding(subject, "cannot verify where it replicates to: its rules are not known yet", REMEDIATION, certain=False)
        return
    for rule in listed:
        destination = dig(rule, "destination", "bucket")
        targets = _destinations(subject, key, destination, sources, buckets)
        if not targets:
            problem = f"cannot verify where it replicates to: destination {destination!r} is not a bucket of this stack"
            yield finding(subject, problem, REMEDIATION, certain=False)
        for target in targets:
            placement = place(target.subject)
            name = target.subject.name
            if isinstance(placement, Located):
                if not inside(placement.location, bounds.countries):
                    problem = f"it replicates to bucket '{name}' in {describe(placement)}, outside {bounds.describe()}"
                    yield finding(subject, problem, REMEDIATION)
            elif placement is not None:
                problem = f"cannot verify the region of destination bucket '{name}': {placement.reason}"
                yield finding(subject, problem, REMEDIATION, certain=placement.certain)


def _destinations(subject: Subject, key: str, destination: Any, sources: list[Bucket], buckets: Buckets) -> list[Bucket]:
    """The destination bucket: by ARN or name when known, else the buckets the rules depend on."""
    arn = text(destination)
    if isinstance(arn, str):
        found = buckets.named(arn) or buckets.named(arn.removeprefix(ARN_PREFIX))
        if found:
            return found
    return [bucket for bucket in buckets.dependencies(subject, key) if bucket not in sources]


POLICY = stack_policy(
    NAME,
    "S3 replication rules copy data only to buckets whose region lies inside the stack's data-residency boundary.",
    EnforcementLevel.MANDATORY,
    check,
    REMEDIATION,
    RESIDENCY_SCHEMA,
)
