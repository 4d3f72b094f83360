"""storage-encryption-at-rest: buckets encrypt with a customer-managed key (SSE-KMS / CMEK)."""

from __future__ import annotations

from functools import partial
from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel

from ._buckets import SSE, Bucket, bucket_findings
from ._policy import Finding, stack_policy
from ._regions import Cloud
from ._values import UNKNOWN, Tri, any_item, any_of, dig, present, text

NAME = "storage-encryption-at-rest"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
AWS_MANAGED_KEY = "alias/aws/s3"
CONTROL = {
    Cloud.AWS: "default encryption with SSE-KMS under a customer-managed KMS key",
    Cloud.GCP: "a customer-managed encryption key (encryption.defaultKmsKeyName)",
}
REMEDIATION = {
    Cloud.AWS: "add an aws.s3.BucketServerSideEncryptionConfiguration whose rule sets sse_algorithm='aws:kms' and "
    "kms_master_key_id to an aws.kms.Key of this stack in the bucket's region (rotation on, bucket_key_enabled=True)",
    Cloud.GCP: "set encryption.default_kms_key_name to a Cloud KMS key in the bucket's location and grant the Cloud "
    "Storage service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on it",
}


def _rule(rule: Any, log_target: bool) -> Tri:
    default = dig(rule, "applyServerSideEncryptionByDefault")
    algorithm = text(dig(default, "sseAlgorithm"))
    if algorithm is UNKNOWN:
        return UNKNOWN
    if log_target and algorithm == "AES256":
        return True  # S3 delivers server access logs only to SSE-S3 buckets: SSE-KMS is not an option
    if algorithm not in KMS_ALGORITHMS:
        return False
    key = dig(default, "kmsMasterKeyId")
    # Without a key id S3 uses the AWS-managed aws/s3 key. An unknown one is a key resource's output.
    return present(key) and not (isinstance(key, str) and key.split(":")[-1] == AWS_MANAGED_KEY)


def encrypted(bucket: Bucket) -> Tri:
    if bucket.cloud is Cloud.GCP:
        return present(dig(bucket.subject.get("encryption"), "defaultKmsKeyName"))
    judge = partial(_rule, log_target=bucket.log_target)
    separate = (any_item(config.get("rules"), judge) for config in bucket.attached(SSE))
    return any_of([*separate, any_item(bucket.inline("serverSideEncryptionConfiguration", "rule"), judge)])


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    return bucket_findings(resources, encrypted, CONTROL, REMEDIATION)


POLICY = stack_policy(
    NAME,
    "S3 buckets encrypt with SSE-KMS under a customer-managed key (access-log buckets: SSE-S3, the only "
    "encryption S3 log delivery supports); GCS buckets with a customer-managed key (CMEK).",
    EnforcementLevel.MANDATORY,
    check,
    f"AWS: {REMEDIATION[Cloud.AWS]}. GCP: {REMEDIATION[Cloud.GCP]}.",
)
