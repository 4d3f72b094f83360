"""storage-access-logging: buckets record who accessed them (except the log buckets themselves)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

from pulumi_policy import EnforcementLevel

from ._buckets import LOGGING, Bucket, bucket_findings, log_destinations, per_cloud
from ._policy import Finding, stack_policy
from ._regions import Cloud
from ._values import Tri, all_of, dig, every_item, present

NAME = "storage-access-logging"
CONTROL = {
    Cloud.AWS: "server access logging into a log bucket",
    Cloud.GCP: "usage and storage logs into a log bucket (logging.logBucket)",
}
REMEDIATION = {
    Cloud.AWS: "give the bucket one aws.s3.BucketLogging with target_bucket set to the stack's (hardened) "
    "access-log bucket",
    Cloud.GCP: "set logging={log_bucket: <the stack's log bucket>} on the bucket",
}


def logged(bucket: Bucket) -> Optional[Tri]:
    if bucket.log_target:
        return None  # a log bucket logging into itself loops; the buckets it serves are the ones logged
    if bucket.cloud is Cloud.GCP:
        return all_of(present(destination) for destination in log_destinations(bucket))
    separate = [dig(control, "targetBucket") for control in bucket.controls(LOGGING)]
    return every_item(separate + log_destinations(bucket), present)


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    return bucket_findings(resources, logged, per_cloud(CONTROL), per_cloud(REMEDIATION))


POLICY = stack_policy(
    NAME,
    "Buckets (other than the log buckets they write to) have access logging enabled.",
    EnforcementLevel.ADVISORY,
    check,
    f"AWS: {REMEDIATION[Cloud.AWS]}. GCP: {REMEDIATION[Cloud.GCP]}.",
)
