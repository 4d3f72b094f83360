"""The GCP half of TempoS3Backend: Cloud Storage buckets with CMEK, the Workload Identity service
account and optional cross-bucket replication (Storage Transfer Service) to a replica region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_gcp as gcp

from components.storage.identity import gcp_account_id
from components.storage.model import (
    ABORT_MULTIPART_DAYS,
    ACCESS_LOG_RETENTION_DAYS,
    NONCURRENT_DAYS,
    Declared,
    Site,
    TempoS3BackendArgs,
)

# CIS Google Cloud benchmark 1.10: rotate KMS keys at least every 90 days. AWS rotates yearly.
GCP_KEY_ROTATION = f"{90 * 24 * 3600}s"
GCS_AGENT_KEY_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# Cloud Storage writes usage logs as this Google group (storage/docs/access-logs).
GCS_LOG_WRITER = "group:cloud-storage-analytics@google.com"


@dataclass(frozen=True)
class _GCS:
    key: gcp.kms.CryptoKey
    bucket: gcp.storage.Bucket


def declare(
    parent: pulumi.Resource, name: str, args: TempoS3BackendArgs, primary: Site, replica: Optional[Site]
) -> Declared:
    """Declare the buckets (and replica) of `args` under `parent`."""
    invoke = pulumi.InvokeOutputOptions(parent=parent, provider=primary.provider)
    # The Cloud Storage service agent encrypts and decrypts with the bucket's key.
    agent = gcp.storage.get_project_service_account_output(project=args.project, opts=invoke).member
    main = _gcs_site(parent, primary, args, agent)
    account = gcp.serviceaccount.Account(
        f"{name}-gsa",
        account_id=gcp_account_id(name),
        display_name=f"obsfleet {args.purpose.value} storage ({args.namespace}/{args.service_account})",
        project=args.project,
        opts=primary.opts(parent),
    )
    gcp.serviceaccount.IAMMember(
        f"{name}-workload-identity",
        service_account_id=account.name,
        role="roles/iam.workloadIdentityUser",
        member=f"serviceAccount:{args.project}.svc.id.goog[{args.namespace}/{args.service_account}]",
        opts=primary.opts(parent),
    )
    _bucket_grant(parent, primary, f"{name}-bucket-access", main.bucket, "roles/storage.objectAdmin", account.member)
    replica_bucket = None
    if replica is not None:
        copy = _gcs_site(parent, replica, args, agent)
        replica_bucket = copy.bucket.name
        _gcs_replication(parent, name, args, primary, main, copy, invoke)
    return Declared(main.bucket.name, replica_bucket, account.email)


def _gcs_site(parent: pulumi.Resource, site: Site, args: TempoS3BackendArgs, agent: pulumi.Output[str]) -> _GCS:
    p = site.prefix
    ring = gcp.kms.KeyRing(f"{p}-keyring", location=site.region, project=args.project, opts=site.opts(parent))
    key = gcp.kms.CryptoKey(
        f"{p}-key",
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        rotation_period=GCP_KEY_ROTATION,
        opts=site.opts(parent),
    )
    key_grant = gcp.kms.CryptoKeyIAMMember(
        f"{p}-key-storage-agent",
        crypto_key_id=key.id,
        role=GCS_AGENT_KEY_ROLE,
        member=agent,
        opts=site.opts(parent),
    )
    # Cloud Storage checks the agent's key access when a bucket gets a default key.
    logs = _gcs_bucket(parent, site, args, f"{p}-access-logs", key, ACCESS_LOG_RETENTION_DAYS, None, [key_grant])
    writer = _bucket_grant(parent, site, f"{p}-access-logs-writer", logs, "roles/storage.objectCreator", GCS_LOG_WRITER)
    bucket = _gcs_bucket(
        parent,
        site,
        args,
        f"{p}-bucket",
        key,
        args.retention_days,
        gcp.storage.BucketLoggingArgs(log_bucket=logs.name),
        [key_grant, writer],
    )
    return _GCS(key, bucket)


def _gcs_bucket(
    parent: pulumi.Resource,
    site: Site,
    args: TempoS3BackendArgs,
    name: str,
    key: gcp.kms.CryptoKey,
    expire_days: int,
    logging: Optional[gcp.storage.BucketLoggingArgs],
    depends_on: list[pulumi.Resource],
) -> gcp.storage.Bucket:
    """CMEK only, uniform access, public access prevented, versioned, expiring."""
    restricted = "FullyRestricted"
    return gcp.storage.Bucket(
        name,
        location=site.region.upper(),
        project=args.project,
        encryption=gcp.storage.BucketEncryptionArgs(
            default_kms_key_name=key.id,
            # Objects written with Google's or a caller's key would escape the customer key.
            google_managed_encryption_enforcement_config=gcp.storage.BucketEncryptionGoogleManagedEncryptionEnforcementConfigArgs(
                restriction_mode=restricted
            ),
            customer_supplied_encryption_enforcement_config=gcp.storage.BucketEncryptionCustomerSuppliedEncryptionEnforcementConfigArgs(
                restriction_mode=restricted
            ),
        ),
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning=gcp.storage.BucketVersioningArgs(enabled=True),
        # Versioning already keeps deleted data NONCURRENT_DAYS; soft delete would add 7 more
        # days past the erasure bound.
        soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(retention_duration_seconds=0),
        lifecycle_rules=_gcs_lifecycle(expire_days),
        logging=logging,
        opts=site.opts(parent, depends_on=depends_on),
    )


def _bucket_grant(
    parent: pulumi.Resource, site: Site, name: str, bucket: gcp.storage.Bucket, role: str, member: pulumi.Input[str]
) -> gcp.storage.BucketIAMMember:
    """`member` gets `role` on this bucket only (never project-wide)."""
    return gcp.storage.BucketIAMMember(name, bucket=bucket.name, role=role, member=member, opts=site.opts(parent))


def _gcs_replication(
    parent: pulumi.Resource,
    name: str,
    args: TempoS3BackendArgs,
    primary: Site,
    main: _GCS,
    copy: _GCS,
    invoke: pulumi.InvokeOutputOptions,
) -> None:
    """Cross-bucket replication (Storage Transfer Service) of new objects into the replica.

    Deletes are not replicated: the replica's own lifecycle expires its copies alike.
    """
    transfer_agent = gcp.storage.get_transfer_project_service_account_output(project=args.project, opts=invoke).member
    # The roles the console grants for a replication job (storage/docs/using-cross-bucket-replication).
    source = _bucket_grant(
        parent, primary, f"{name}-replication-source", main.bucket, "roles/storage.legacyBucketOwner", transfer_agent
    )
    sink = _bucket_grant(
        parent, primary, f"{name}-replication-sink", copy.bucket, "roles/storage.legacyBucketWriter", transfer_agent
    )
    gcp.storage.TransferJob(
        f"{name}-replication",
        description=f"obsfleet {args.purpose.value}: disaster-recovery copy of {name}",
        project=args.project,
        replication_spec=gcp.storage.TransferJobReplicationSpecArgs(
            gcs_data_source=gcp.storage.TransferJobReplicationSpecGcsDataSourceArgs(bucket_name=main.bucket.name),
            gcs_data_sink=gcp.storage.TransferJobReplicationSpecGcsDataSinkArgs(bucket_name=copy.bucket.name),
        ),
        opts=primary.opts(parent, depends_on=[source, sink]),
    )


def _gcs_lifecycle(expire_days: int) -> list[gcp.storage.BucketLifecycleRuleArgs]:
    def rule(action: str, **condition: Any) -> gcp.storage.BucketLifecycleRuleArgs:
        return gcp.storage.BucketLifecycleRuleArgs(
            action=gcp.storage.BucketLifecycleRuleActionArgs(type=action),
            condition=gcp.storage.BucketLifecycleRuleConditionArgs(**condition),
        )

    return [
        # ANY: the live version turns noncurrent at expire_days, and a noncurrent version that
        # old is deleted outright, so nothing outlives expire_days by more than a lifecycle run.
        rule("Delete", age=expire_days, with_state="ANY"),
        rule("Delete", days_since_noncurrent_time=NONCURRENT_DAYS, with_state="ARCHIVED"),
        rule("AbortIncompleteMultipartUpload", age=ABORT_MULTIPART_DAYS),
    ]
