"""storage-retention-lifecycle: buckets expire (S3) or delete (GCS) objects instead of keeping them forever."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel

from ._buckets import LIFECYCLE, Bucket, bucket_findings
from ._policy import Finding, stack_policy
from ._regions import Cloud
from ._values import UNKNOWN, Tri, all_of, any_item, any_of, dig, equals, flag, positive, text

NAME = "storage-retention-lifecycle"
CONTROL = {
    Cloud.AWS: "an enabled lifecycle rule that expires objects (expiration days > 0 or a date)",
    Cloud.GCP: "a lifecycle rule with a Delete action",
}
REMEDIATION = {
    Cloud.AWS: "add an aws.s3.BucketLifecycleConfiguration with a rule status='Enabled' and "
    "expiration.days set to the retention (plus noncurrent_version_expiration and abort_incomplete_multipart_upload)",
    Cloud.GCP: "add lifecycle_rules=[{action: {type: 'Delete'}, condition: {age: <retention days>}}] to the bucket",
}


def _expires(expiration: Any) -> Tri:
    date = text(dig(expiration, "date"))
    dated: Tri = UNKNOWN if date is UNKNOWN else date is not None
    return any_of([positive(dig(expiration, "days")), dated])


def _expiring_rule(rule: Any) -> Tri:  # aws.s3.BucketLifecycleConfiguration
    return all_of([equals(dig(rule, "status"), "Enabled"), any_item(dig(rule, "expiration"), _expires)])


def _expiring_inline_rule(rule: Any) -> Tri:  # the deprecated aws.s3.Bucket lifecycleRules
    return all_of([flag(dig(rule, "enabled")), any_item(dig(rule, "expiration"), _expires)])


def _deleting_rule(rule: Any) -> Tri:  # gcp.storage.Bucket lifecycleRules
    return equals(dig(rule, "action", "type"), "Delete")


def expiring(bucket: Bucket) -> Tri:
    if bucket.cloud is Cloud.GCP:
        return any_item(bucket.subject.get("lifecycleRules"), _deleting_rule)
    separate = [any_item(config.get("rules"), _expiring_rule) for config in bucket.attached(LIFECYCLE)]
    return any_of([*separate, any_item(bucket.inline("lifecycleRules"), _expiring_inline_rule)])


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    return bucket_findings(resources, expiring, CONTROL, REMEDIATION)


POLICY = stack_policy(
    NAME,
    "Buckets have an enabled lifecycle rule that expires (S3) or deletes (GCS) objects: telemetry is kept "
    "for its retention period, not forever.",
    EnforcementLevel.MANDATORY,
    check,
    f"AWS: {REMEDIATION[Cloud.AWS]}. GCP: {REMEDIATION[Cloud.GCP]}.",
)
