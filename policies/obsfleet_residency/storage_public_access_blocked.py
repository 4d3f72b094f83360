"""storage-public-access-blocked: no bucket can be made public."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel

from ._buckets import PUBLIC_ACCESS_BLOCK, Bucket, bucket_findings
from ._policy import Finding, stack_policy
from ._regions import Cloud
from ._values import Tri, all_of, any_of, equals, flag

NAME = "storage-public-access-blocked"
BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
CONTROL = {
    Cloud.AWS: "a public access block with all four settings on (" + ", ".join(BLOCKS) + ")",
    Cloud.GCP: "publicAccessPrevention 'enforced' together with uniformBucketLevelAccess",
}
REMEDIATION = {
    Cloud.AWS: "add an aws.s3.BucketPublicAccessBlock for the bucket with block_public_acls, block_public_policy, "
    "ignore_public_acls and restrict_public_buckets all True",
    Cloud.GCP: "set public_access_prevention='enforced' and uniform_bucket_level_access=True on the bucket",
}


def blocked(bucket: Bucket) -> Tri:
    if bucket.cloud is Cloud.GCP:
        return all_of([equals(bucket.subject.get("publicAccessPrevention"), "enforced"), flag(bucket.subject.get("uniformBucketLevelAccess"))])
    return any_of(all_of(flag(block.get(key)) for key in BLOCKS) for block in bucket.attached(PUBLIC_ACCESS_BLOCK))


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    return bucket_findings(resources, blocked, CONTROL, REMEDIATION)


POLICY = stack_policy(
    NAME,
    "S3 buckets have a public access block with all four settings on; GCS buckets enforce public access "
    "prevention and uniform bucket-level access.",
    EnforcementLevel.MANDATORY,
    check,
    f"AWS: {REMEDIATION[Cloud.AWS]}. GCP: {REMEDIATION[Cloud.GCP]}.",
)
