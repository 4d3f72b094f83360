"""The AWS half of TempoS3Backend: S3 buckets with their controls, KMS keys, the IRSA role and
optional S3 replication to a replica region.

Server access logs go to a second bucket per region, hardened alike (SSE-S3: S3 cannot deliver
logs into an SSE-KMS bucket).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, TypeVar

import pulumi
import pulumi_aws as aws

from components.storage.fragments import s3_endpoint
from components.storage.identity import irsa_trust
from components.storage.model import (
    ABORT_MULTIPART_DAYS,
    ACCESS_LOG_RETENTION_DAYS,
    NONCURRENT_DAYS,
    Declared,
    Purpose,
    Site,
    TempoS3BackendArgs,
)

ACCESS_LOG_PREFIX = "s3-access/"
S3_WORKLOAD_BUCKET_ACTIONS = ["s3:ListBucket"]
S3_WORKLOAD_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
# Tempo's minimal S3 policy (Tempo docs, configuration/hosted-storage/s3) also tags objects.
S3_TEMPO_OBJECT_ACTIONS = ["s3:GetObjectTagging", "s3:PutObjectTagging"]
KMS_WORKLOAD_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]

_R = TypeVar("_R", bound=pulumi.CustomResource)


@dataclass(frozen=True)
class _S3:
    key: aws.kms.Key
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning


def declare(
    parent: pulumi.Resource, name: str, args: TempoS3BackendArgs, primary: Site, replica: Optional[Site]
) -> Declared:
    """Declare the buckets (and replica) of `args` under `parent`."""
    account = aws.get_caller_identity_output(
        opts=pulumi.InvokeOutputOptions(parent=parent, provider=primary.provider)
    ).account_id
    main = _s3_site(parent, primary, args, account)
    replica_bucket = None
    if replica is not None:
        copy = _s3_site(parent, replica, args, account)
        replica_bucket = copy.bucket.bucket
        _s3_replication(parent, name, primary, main, replica, copy)
    role = _irsa_role(parent, name, args, primary, main)
    return Declared(main.bucket.bucket, replica_bucket, role.arn)


@dataclass(frozen=True)
class _Controls:
    """Declares a bucket's configuration resources: each named after the bucket, in its region,
    under its provider."""

    parent: pulumi.Resource
    site: Site
    name: str
    bucket: aws.s3.Bucket

    def add(
        self, resource: Callable[..., _R], suffix: str, *, depends_on: Sequence[pulumi.Resource] = (), **props: Any
    ) -> _R:
        return resource(
            f"{self.name}-{suffix}",
            bucket=self.bucket.id,
            **props,
            **self.site.aws_region,
            opts=self.site.opts(self.parent, depends_on),
        )


def _s3_site(parent: pulumi.Resource, site: Site, args: TempoS3BackendArgs, account: pulumi.Output[str]) -> _S3:
    p = site.prefix
    key = aws.kms.Key(
        f"{p}-key",
        description=f"obsfleet {args.purpose.value} bucket {p}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        **site.aws_region,
        opts=site.opts(parent),
    )
    logs = aws.s3.Bucket(f"{p}-access-logs", **site.aws_region, opts=site.opts(parent))
    bucket = aws.s3.Bucket(f"{p}-bucket", **site.aws_region, opts=site.opts(parent))
    # S3 server access logging cannot deliver into an SSE-KMS bucket (S3 User Guide, "Enabling
    # Amazon S3 server access logging"): the log bucket uses SSE-S3 (AES256).
    _harden_s3(
        _Controls(parent, site, f"{p}-access-logs", logs),
        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(sse_algorithm="AES256"),
        ACCESS_LOG_RETENTION_DAYS,
        grants=[
            {
                "Sid": "S3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": pulumi.Output.concat(logs.arn, "/", ACCESS_LOG_PREFIX, "*"),
                "Condition": {"ArnLike": {"aws:SourceArn": bucket.arn}, "StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    )
    versioning = _harden_s3(
        _Controls(parent, site, f"{p}-bucket", bucket),
        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=key.arn
        ),
        args.retention_days,
        log_to=logs,
    )
    return _S3(key, bucket, versioning)


def _harden_s3(
    controls: _Controls,
    encryption: aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs,
    expire_days: int,
    grants: Sequence[dict[str, Any]] = (),
    log_to: Optional[aws.s3.Bucket] = None,
) -> aws.s3.BucketVersioning:
    """Versioning, default encryption, all four public-access blocks, no ACLs, TLS-only, expiry,
    and server access logs into `log_to` when given."""
    versioning = controls.add(
        aws.s3.BucketVersioning,
        "versioning",
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
    )
    controls.add(
        aws.s3.BucketServerSideEncryptionConfiguration,
        "encryption",
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=encryption,
                bucket_key_enabled=encryption.sse_algorithm == "aws:kms",
                # A customer-provided key (SSE-C) would put objects beyond our key's control.
                blocked_encryption_types=["SSE-C"],
            )
        ],
    )
    public_access = controls.add(
        aws.s3.BucketPublicAccessBlock,
        "public-access",
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    controls.add(
        aws.s3.BucketOwnershipControls,
        "ownership",
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
    )
    # After the public-access block: S3 rejects concurrent bucket-configuration writes.
    controls.add(
        aws.s3.BucketPolicy,
        "policy",
        policy=_policy(_tls_only(controls.bucket.arn), *grants),
        depends_on=[public_access],
    )
    controls.add(aws.s3.BucketLifecycleConfiguration, "lifecycle", rules=_s3_lifecycle(expire_days), depends_on=[versioning])
    if log_to is not None:
        controls.add(
            aws.s3.BucketLogging,
            "logging",
            target_bucket=log_to.id,
            target_prefix=ACCESS_LOG_PREFIX,
            target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                    partition_date_source="EventTime"
                )
            ),
        )
    return versioning


def _irsa_role(parent: pulumi.Resource, name: str, args: TempoS3BackendArgs, site: Site, main: _S3) -> aws.iam.Role:
    oidc = args.oidc_provider
    assert oidc is not None  # _validate
    objects = S3_WORKLOAD_OBJECT_ACTIONS + (S3_TEMPO_OBJECT_ACTIONS if args.purpose is Purpose.TRACES else [])
    role = aws.iam.Role(
        f"{name}-role",
        description=f"{args.purpose.value} storage for {args.namespace}/{args.service_account} (IRSA)",
        assume_role_policy=irsa_trust(oidc, args.namespace, args.service_account),
        opts=site.opts(parent),
    )
    aws.iam.RolePolicy(
        f"{name}-role-policy",
        role=role.id,
        policy=_policy(
            _allow(S3_WORKLOAD_BUCKET_ACTIONS, main.bucket.arn),
            _allow(objects, pulumi.Output.concat(main.bucket.arn, "/*")),
            _allow(KMS_WORKLOAD_ACTIONS, main.key.arn),
        ),
        opts=site.opts(parent),
    )
    return role


def _s3_replication(parent: pulumi.Resource, name: str, primary: Site, main: _S3, replica: Site, copy: _S3) -> None:
    role = aws.iam.Role(
        f"{name}-replication-role",
        description=f"S3 replication of {name} to {replica.region}",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
        opts=primary.opts(parent),
    )
    # S3 User Guide, "Replicating objects created with SSE-KMS": read versions of the source,
    # replicate into the replica, decrypt with the source key, encrypt with the replica key.
    policy = aws.iam.RolePolicy(
        f"{name}-replication-policy",
        role=role.id,
        policy=_policy(
            _allow(["s3:GetReplicationConfiguration", "s3:ListBucket"], main.bucket.arn),
            _allow(
                ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                pulumi.Output.concat(main.bucket.arn, "/*"),
            ),
            _allow(
                ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                pulumi.Output.concat(copy.bucket.arn, "/*"),
            ),
            _allow(["kms:Decrypt"], main.key.arn, _via_s3(primary.region)),
            _allow(["kms:Encrypt", "kms:GenerateDataKey"], copy.key.arn, _via_s3(replica.region)),
        ),
        opts=primary.opts(parent),
    )
    aws.s3.BucketReplicationConfig(
        f"{name}-replication",
        bucket=main.bucket.id,
        role=role.arn,
        rules=[
            aws.s3.BucketReplicationConfigRuleArgs(
                id="disaster-recovery",
                status="Enabled",
                filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                # Deletes by the app (Tempo compactor, Loki retention) reach the replica too.
                delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                    status="Enabled"
                ),
                source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                    sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                        status="Enabled"
                    )
                ),
                destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                    bucket=copy.bucket.arn,
                    storage_class="STANDARD",
                    encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                        replica_kms_key_id=copy.key.arn
                    ),
                ),
            )
        ],
        # S3 refuses replication until both buckets are versioned and the role may act.
        opts=primary.opts(parent, depends_on=[main.versioning, copy.versioning, policy]),
    )


def _s3_lifecycle(expire_days: int) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    everything = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
    return [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-after-retention",
            status="Enabled",
            filter=everything,
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire_days),
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=NONCURRENT_DAYS
            ),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABORT_MULTIPART_DAYS
            ),
        ),
        # Once its last noncurrent version is gone, a delete marker is clutter that slows listings.
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="remove-expired-delete-markers",
            status="Enabled",
            filter=everything,
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
        ),
    ]


def _policy(*statements: Any) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _tls_only(bucket_arn: pulumi.Output[str]) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _allow(actions: list[str], resource: Any, condition: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def _via_s3(region: str) -> dict[str, Any]:
    """Key use only through S3 in that region, never by direct KMS calls."""
    return {"StringEquals": {"kms:ViaService": s3_endpoint(region)}}
