"""storage-retention-lifecycle: every object of a bucket expires (S3) or is deleted (GCS) within
the retention: not kept forever, nor far beyond what the stack promises.

A rule complies when it is enabled, applies to every object (no prefix, tag or size filter) and
expires objects after at most `retentionDays` + MARGIN_DAYS days (or on a date). The margin: S3
and GCS evaluate lifecycle rules about once a day and remove expired objects asynchronously, so a
rule expiring exactly at the retention still keeps data up to a day longer.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel, PolicyConfigSchema

from ._buckets import LIFECYCLE, Bucket, bucket_findings
from ._policy import Finding, stack_policy
from ._regions import Cloud
from ._values import UNKNOWN, Tri, all_of, any_item, dig, each, equals, every_item, flag, text

NAME = "storage-retention-lifecycle"
DEFAULT_RETENTION_DAYS = 400  # the longest telemetry retention the stacks offer (13 months) plus headroom
MARGIN_DAYS = 1
SCHEMA = PolicyConfigSchema(properties={
    "retentionDays": {
        "type": "integer",
        "minimum": 1,
        "default": DEFAULT_RETENTION_DAYS,
        "description": "The longest any bucket of the stack may keep an object, in days (the stack's longest "
        "retention); expiry may be at most one day later.",
    },
})
_AWS_FIX = (
    "give the bucket one aws.s3.BucketLifecycleConfiguration with a rule status='Enabled', an empty filter "
    "(every object) and expiration.days set to the retention (plus noncurrent_version_expiration and "
    "abort_incomplete_multipart_upload)"
)
_GCP_FIX = "add lifecycle_rules=[{action: {type: 'Delete'}, condition: {age: <retention days>}}] to the bucket"


def _limit(config: Mapping[str, Any]) -> float:
    days = config.get("retentionDays", DEFAULT_RETENTION_DAYS)
    return (days if isinstance(days, (int, float)) and not isinstance(days, bool) else DEFAULT_RETENTION_DAYS) + MARGIN_DAYS


def _within(days: Any, limit: float) -> Tri:
    if days is UNKNOWN:
        return UNKNOWN
    return isinstance(days, (int, float)) and not isinstance(days, bool) and 0 < days <= limit


def _expires(expiration: Any, limit: float) -> Tri:
    date = text(dig(expiration, "date"))
    if date is UNKNOWN:
        return UNKNOWN
    return True if isinstance(date, str) else _within(dig(expiration, "days"), limit)


def _empty(value: Any) -> Tri:
    if value is UNKNOWN:
        return UNKNOWN
    return value is None or value == "" or value == {} or value == [] or value == 0


def _every_object(filter_: Any) -> Tri:
    """Whether a lifecycle filter (or a rule's own prefix/tags) selects every object."""
    if filter_ is UNKNOWN:
        return UNKNOWN
    if not isinstance(filter_, dict):
        return _empty(filter_)
    narrowing = [filter_.get(key) for key in ("prefix", "tag", "tags", "objectSizeGreaterThan", "objectSizeLessThan")]
    conjunction = filter_.get("and")
    return all_of([*map(_empty, narrowing), _every_object(conjunction) if conjunction is not None else True])


def _s3_rule(rule: Any, limit: float) -> Tri:  # aws.s3.BucketLifecycleConfiguration(V2)
    return all_of([
        equals(dig(rule, "status"), "Enabled"),
        _every_object(dig(rule, "filter")),
        _every_object(dig(rule, "prefix")),
        any_item(dig(rule, "expiration"), lambda expiration: _expires(expiration, limit)),
    ])


def _inline_rule(rule: Any, limit: float) -> Tri:  # the deprecated inline lifecycleRules (object or list forms)
    return all_of([
        flag(dig(rule, "enabled")),
        _every_object(dig(rule, "prefix")),
        _every_object(dig(rule, "tags")),
        any_item(each(rule, "expiration", "expirations"), lambda expiration: _expires(expiration, limit)),
    ])


def _deleting_rule(rule: Any, limit: float) -> Tri:  # gcp.storage.Bucket lifecycleRules
    condition = dig(rule, "condition")
    narrowing = [dig(condition, key) for key in (
        "matchesPrefixes", "matchesSuffixes", "matchesStorageClasses", "createdBefore", "customTimeBefore",
        "noncurrentTimeBefore", "daysSinceCustomTime", "daysSinceNoncurrentTime", "numNewerVersions")]
    state = dig(condition, "withState")
    return all_of([
        equals(dig(rule, "action", "type"), "Delete"),
        _within(dig(condition, "age"), limit),
        *map(_empty, narrowing),
        True if state is None else _all_states(state),
    ])


def _all_states(state: Any) -> Tri:
    """A `withState` that still selects live objects: ANY (live and noncurrent) or LIVE."""
    return UNKNOWN if state is UNKNOWN else isinstance(state, str) and state.upper() in ("ANY", "LIVE", "")


def expiring(bucket: Bucket, limit: float) -> Tri:
    """One complying rule per control is enough (S3 applies every rule of a configuration; the
    earliest expiry wins); every control must have one (which configuration S3 keeps is unknown)."""
    if bucket.cloud is Cloud.GCP:
        return any_item(bucket.subject.get("lifecycleRules"), lambda rule: _deleting_rule(rule, limit))
    separate = [any_item(control.get("rules"), lambda rule: _s3_rule(rule, limit)) for control in bucket.controls(LIFECYCLE)]
    inline = [any_item(rules, lambda rule: _inline_rule(rule, limit)) for rules in bucket.inline(LIFECYCLE, "lifecycleRules")]
    return every_item(separate + inline, lambda verdict: verdict)


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    limit = _limit(config)
    control = (
        f"an enabled lifecycle rule for every object that expires it within {limit:g} days (retention "
        f"{limit - MARGIN_DAYS:g} + {MARGIN_DAYS})"
    )
    remediation = {Cloud.AWS: _AWS_FIX, Cloud.GCP: _GCP_FIX}
    return bucket_findings(resources, lambda bucket: expiring(bucket, limit), lambda _bucket: control,
                           lambda bucket: remediation[bucket.cloud])


POLICY = stack_policy(
    NAME,
    "Every bucket has an enabled lifecycle rule, for every object, that expires (S3) or deletes (GCS) objects "
    "within the stack's retention (`retentionDays`, plus one day): telemetry is not kept forever.",
    EnforcementLevel.MANDATORY,
    check,
    f"AWS: {_AWS_FIX}. GCP: {_GCP_FIX}.",
    SCHEMA,
)
