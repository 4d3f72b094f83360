"""The storage policies' plain check functions, on S3 (separate v7 resources and inline) and GCS."""

from __future__ import annotations

import json
from typing import Callable, Iterable

import pytest

from policies.obsfleet_residency import (
    storage_access_logging,
    storage_encryption_at_rest,
    storage_public_access_blocked,
    storage_retention_lifecycle,
    storage_tls_only,
)
from policies.obsfleet_residency._policy import Finding
from review.analyzer import UNKNOWN
from tests.policies.builders import (
    BUCKET,
    BUCKET_POLICY,
    LIFECYCLE,
    LOGGING,
    PAB,
    SSE,
    aws_provider,
    gcp_provider,
    gcs_bucket,
    hardened_s3,
    resource,
    s3_bucket,
    stack_resources,
)

AWS = aws_provider()
GCP = gcp_provider()
CHECKS = {
    "encryption": storage_encryption_at_rest.check,
    "public": storage_public_access_blocked.check,
    "tls": storage_tls_only.check,
    "lifecycle": storage_retention_lifecycle.check,
    "logging": storage_access_logging.check,
}
Check = Callable[..., Iterable[Finding]]


def judged(check: Check, resources: list[dict]) -> list[tuple[str, bool]]:
    """(bucket name, certain) per finding."""
    return [(f.urn.rsplit("::", 1)[1], f.certain) for f in check(stack_resources(resources), {})]


@pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
def test_hardened_buckets_pass_every_storage_check(check: Check) -> None:
    assert judged(check, [AWS, GCP, *hardened_s3("traces", AWS), gcs_bucket("logs", GCP)]) == []


@pytest.mark.parametrize(
    "check, control",
    [
        (storage_encryption_at_rest.check, SSE),
        (storage_public_access_blocked.check, PAB),
        (storage_tls_only.check, BUCKET_POLICY),
        (storage_retention_lifecycle.check, LIFECYCLE),
    ],
)
def test_a_missing_s3_control_fails_its_check_only_for_that_bucket(check: Check, control: str) -> None:
    resources = [AWS, *hardened_s3("traces", AWS, omit=[control])]
    assert judged(check, resources) == [("traces", True)]


def test_without_access_logging_the_log_bucket_is_just_another_unlogged_bucket() -> None:
    resources = [AWS, *hardened_s3("traces", AWS, omit=[LOGGING])]
    assert judged(storage_access_logging.check, resources) == [("traces", True), ("traces-logs", True)]


def test_violation_message_names_the_gap_and_the_remedy() -> None:
    (found,) = storage_public_access_blocked.check(stack_resources([AWS, *hardened_s3("t", AWS, omit=[PAB])]), {})
    assert "does not have a public access block with all four settings on" in found.message
    assert "Remediation: give the bucket one aws.s3.BucketPublicAccessBlock" in found.message


@pytest.mark.parametrize(
    "check, props",
    [
        (storage_encryption_at_rest.check, {"encryption": None}),
        (storage_public_access_blocked.check, {"publicAccessPrevention": "inherited"}),
        (storage_public_access_blocked.check, {"uniformBucketLevelAccess": False}),
        (storage_retention_lifecycle.check, {"lifecycleRules": [{"action": {"type": "SetStorageClass"}}]}),
        (storage_access_logging.check, {"logging": None}),
    ],
)
def test_gcs_bucket_without_a_control_fails(check: Check, props: dict) -> None:
    assert judged(check, [GCP, gcs_bucket("g", GCP, **props)]) == [("g", True)]


def test_tls_only_does_not_apply_to_gcs() -> None:
    assert judged(storage_tls_only.check, [GCP, gcs_bucket("g", GCP)]) == []


# --- encryption ----------------------------------------------------------------------------------


def _sse(**default: object) -> dict:
    return {SSE: {"rules": [{"applyServerSideEncryptionByDefault": default}]}}


@pytest.mark.parametrize(
    "default, passes",
    [
        ({"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:eu-central-1:1:key/k"}, True),
        ({"sseAlgorithm": "aws:kms:dsse", "kmsMasterKeyId": "alias/obsfleet"}, True),
        ({"sseAlgorithm": "aws:kms", "kmsMasterKeyId": UNKNOWN}, True),  # a key resource's output, in preview
        ({"sseAlgorithm": "aws:kms"}, False),  # S3 then uses the AWS-managed aws/s3 key
        ({"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:eu-central-1:1:alias/aws/s3"}, False),
        ({"sseAlgorithm": "AES256"}, False),  # SSE-S3 only passes on access-log buckets
    ],
)
def test_encryption_requires_a_customer_managed_kms_key(default: dict, passes: bool) -> None:
    resources = [AWS, *hardened_s3("traces", AWS, replace=_sse(**default))]
    assert judged(storage_encryption_at_rest.check, resources) == ([] if passes else [("traces", True)])


def test_unknown_algorithm_cannot_be_verified() -> None:
    resources = [AWS, *hardened_s3("traces", AWS, replace=_sse(sseAlgorithm=UNKNOWN))]
    assert judged(storage_encryption_at_rest.check, resources) == [("traces", False)]


def test_log_buckets_pass_with_sse_s3_because_log_delivery_requires_it() -> None:
    logs = s3_bucket("logs", AWS)  # SSE-S3, as log delivery needs
    assert judged(storage_encryption_at_rest.check, [AWS, *logs]) == [("logs", True)]  # not a log target yet
    data = s3_bucket("data", AWS, log_bucket=logs[0])
    assert judged(storage_encryption_at_rest.check, [AWS, *logs, *data]) == []


def test_inline_configuration_counts_when_known_and_not_when_computed() -> None:
    inline = {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "k"}}}
    bucket = resource(BUCKET, "legacy", outputs={"bucket": "legacy", "serverSideEncryptionConfiguration": inline}, provider=AWS)
    assert judged(storage_encryption_at_rest.check, [AWS, bucket]) == []
    bucket["outputs"]["serverSideEncryptionConfiguration"] = UNKNOWN  # the provider's computed default in preview
    assert judged(storage_encryption_at_rest.check, [AWS, bucket]) == [("legacy", True)]


def test_config_links_to_its_bucket_by_name_without_dependencies() -> None:
    resources = [AWS, *hardened_s3("traces", AWS)]
    for entry in resources:
        entry.pop("propertyDependencies", None)
    assert judged(storage_encryption_at_rest.check, resources) == []


def test_config_of_another_bucket_does_not_count() -> None:
    other = s3_bucket("other", AWS)
    data = hardened_s3("traces", AWS, omit=[SSE])
    assert judged(storage_encryption_at_rest.check, [AWS, *other, *data]) == [("other", True), ("traces", True)]


# --- public access -------------------------------------------------------------------------------


@pytest.mark.parametrize("off", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
def test_each_of_the_four_blocks_is_required(off: str) -> None:
    blocks = {k: True for k in storage_public_access_blocked.BLOCKS} | {off: False}
    assert judged(storage_public_access_blocked.check, [AWS, *hardened_s3("t", AWS, replace={PAB: blocks})]) == [("t", True)]


# --- TLS -------------------------------------------------------------------------------------------


def _statement(**changes: object) -> dict:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": ["arn:aws:s3:::t-0abc", "arn:aws:s3:::t-0abc/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    return {k: v for k, v in {**statement, **changes}.items() if v is not None}


@pytest.mark.parametrize(
    "statement, passes",
    [
        (_statement(), True),
        (_statement(Principal={"AWS": ["*"]}, Action=["s3:*"], Condition={"Bool": {"aws:SecureTransport": False}}), True),
        (_statement(Resource="*"), True),
        (_statement(Effect="Allow"), False),
        (_statement(Action="s3:GetObject"), False),
        (_statement(Principal={"AWS": "arn:aws:iam::1:root"}), False),
        (_statement(Condition={"Bool": {"aws:SecureTransport": "true"}}), False),
        (_statement(Condition=None), False),
        (_statement(Resource=["arn:aws:s3:::t-0abc"]), False),  # the objects are not covered
        (_statement(Resource=["arn:aws:s3:::t-0*", "arn:aws:s3:::t-0*/*"]), True),  # IAM wildcards
        (_statement(Resource=["arn:aws:s3:::other", "arn:aws:s3:::other/*"]), False),  # another bucket
        (_statement(Resource=["arn:aws:s3:::t-0abc", "arn:aws:s3:::t-0abc/logs/*"]), False),  # some objects only
        (_statement(NotPrincipal={"AWS": "arn:aws:iam::1:root"}), False),
    ],
)
def test_tls_only_needs_a_deny_on_insecure_transport(statement: dict, passes: bool) -> None:
    policy = {BUCKET_POLICY: {"policy": json.dumps({"Statement": [statement]})}}
    assert judged(storage_tls_only.check, [AWS, *hardened_s3("t", AWS, replace=policy)]) == ([] if passes else [("t", True)])


@pytest.mark.parametrize("document, certain", [("{not json", True), (UNKNOWN, False), (json.dumps({"Statement": "x"}), True)])
def test_unreadable_policy_documents(document: object, certain: bool) -> None:
    policy = {BUCKET_POLICY: {"policy": document}}
    assert judged(storage_tls_only.check, [AWS, *hardened_s3("t", AWS, replace=policy)]) == [("t", certain)]


# --- lifecycle -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, passes",
    [
        ({"status": "Enabled", "expiration": {"date": "2027-01-01T00:00:00Z"}}, True),
        ({"status": "Disabled", "expiration": {"days": 14.0}}, False),
        ({"status": "Enabled", "expiration": {"days": 0.0}}, False),
        ({"status": "Enabled", "noncurrentVersionExpiration": {"noncurrentDays": 7.0}}, False),
        ({"status": "Enabled", "expiration": {"expiredObjectDeleteMarker": True}}, False),
    ],
)
def test_lifecycle_needs_an_enabled_expiring_rule(rule: dict, passes: bool) -> None:
    resources = [AWS, *hardened_s3("t", AWS, replace={LIFECYCLE: {"rules": [rule]}})]
    assert judged(storage_retention_lifecycle.check, resources) == ([] if passes else [("t", True)])


def test_inline_lifecycle_rules_count() -> None:
    rules = [{"enabled": True, "expiration": {"days": 30.0}}]
    bucket = resource(BUCKET, "legacy", outputs={"bucket": "legacy", "lifecycleRules": rules}, provider=AWS)
    assert judged(storage_retention_lifecycle.check, [AWS, bucket]) == []
    rules[0]["enabled"] = False
    assert judged(storage_retention_lifecycle.check, [AWS, bucket]) == [("legacy", True)]


# --- access logging ---------------------------------------------------------------------------------


def test_log_buckets_are_not_asked_to_log_themselves() -> None:
    resources = [AWS, *hardened_s3("traces", AWS)]
    assert judged(storage_access_logging.check, resources) == []
    gcs_logs = gcs_bucket("gcs-logs", GCP, name="logs-0abc", logging=None)
    assert judged(storage_access_logging.check, [GCP, gcs_bucket("g", GCP), gcs_logs]) == []


def test_a_bucket_logging_into_itself_is_still_judged_as_a_data_bucket() -> None:
    sse_s3 = {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}}
    bucket = resource(BUCKET, "self", outputs={"bucket": "self-0abc", "logging": {"targetBucket": "self-0abc"},
                                               "serverSideEncryptionConfiguration": sse_s3}, provider=AWS)
    assert judged(storage_access_logging.check, [AWS, bucket]) == []  # it is logged, though into itself
    assert judged(storage_encryption_at_rest.check, [AWS, bucket]) == [("self", True)]  # SSE-S3 is for log buckets only
