"""storage-encryption-at-rest: buckets encrypt with a customer-managed key (SSE-KMS / CMEK);
S3 access-log buckets with SSE-S3, the only default encryption S3 log delivery writes to."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel

from ._buckets import SSE, Bucket, bucket_findings, flat
from ._policy import Finding, stack_policy
from ._regions import Cloud
from ._values import UNKNOWN, Tri, dig, each, every_item, present, text

NAME = "storage-encryption-at-rest"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
LOG_ALGORITHM = "AES256"  # SSE-S3
AWS_MANAGED_KEY = "alias/aws/s3"
_GCP = "a customer-managed encryption key (encryption.defaultKmsKeyName)"
_GCP_FIX = (
    "set encryption.default_kms_key_name to a Cloud KMS key in the bucket's location and grant the Cloud "
    "Storage service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on it"
)
_AWS = "default encryption with SSE-KMS under a customer-managed KMS key"
_AWS_FIX = (
    "give the bucket one aws.s3.BucketServerSideEncryptionConfiguration whose rule sets sse_algorithm='aws:kms' and "
    "kms_master_key_id to an aws.kms.Key of this stack in the bucket's region (rotation on, bucket_key_enabled=True), "
    "and no other encryption setting"
)
_LOG = "default encryption with SSE-S3 (AES256), the only one S3 server access log delivery supports"
_LOG_FIX = (
    "give this access-log bucket one aws.s3.BucketServerSideEncryptionConfiguration whose rule sets "
    "sse_algorithm='AES256' (SSE-KMS is not an option: S3 does not deliver server access logs to it)"
)


def control(bucket: Bucket) -> str:
    return _GCP if bucket.cloud is Cloud.GCP else _LOG if bucket.log_target else _AWS


def remediation(bucket: Bucket) -> str:
    return _GCP_FIX if bucket.cloud is Cloud.GCP else _LOG_FIX if bucket.log_target else _AWS_FIX


def _default(default: Any, log_target: bool) -> Tri:
    algorithm = text(dig(default, "sseAlgorithm"))
    if algorithm is UNKNOWN:
        return UNKNOWN
    if log_target:
        return algorithm == LOG_ALGORITHM
    if algorithm not in KMS_ALGORITHMS:
        return False
    key = dig(default, "kmsMasterKeyId")
    # Without a key id S3 uses the AWS-managed aws/s3 key. An unknown one is a key resource's output.
    return present(key) and not (isinstance(key, str) and key.split(":")[-1] == AWS_MANAGED_KEY)


def _rule(rule: Any, log_target: bool) -> Tri:
    defaults = each(rule, "applyServerSideEncryptionByDefault", "applyServerSideEncryptionByDefaults")
    return every_item(defaults, lambda default: _default(default, log_target))


def encrypted(bucket: Bucket) -> Tri:
    if bucket.cloud is Cloud.GCP:
        return present(dig(bucket.subject.get("encryption"), "defaultKmsKeyName"))
    # The list-shaped BucketV2 setting holds configurations: each is a control.
    configurations = flat(bucket.controls(SSE, "serverSideEncryptionConfiguration", "serverSideEncryptionConfigurations"))
    return every_item(configurations, lambda configuration: every_item(
        each(configuration, "rule", "rules"), lambda rule: _rule(rule, bucket.log_target)))


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    return bucket_findings(resources, encrypted, control, remediation)


POLICY = stack_policy(
    NAME,
    "S3 buckets encrypt with SSE-KMS under a customer-managed key (access-log buckets: SSE-S3, the only "
    "encryption S3 log delivery supports); GCS buckets with a customer-managed key (CMEK).",
    EnforcementLevel.MANDATORY,
    check,
    f"AWS: {_AWS_FIX}. AWS access-log buckets: {_LOG_FIX}. GCP: {_GCP_FIX}.",
)
