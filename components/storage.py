"""TempoS3Backend: hardened, in-boundary object storage for Tempo traces (Loki logs reuse it).

Traces and logs carry personal data (client IPs, user ids in span attributes and log lines), so
each bucket is encrypted with a customer-managed key in its own region, private, TLS-only,
expiring, versioned and access-logged; the workload reaches it through its Kubernetes service
account (IRSA on EKS, Workload Identity on GKE) with rights on this bucket and key only; an
optional disaster-recovery replica stays inside the residency boundary. No access key or
service-account key exists anywhere: the Helm fragments carry an identity annotation, not a secret.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from components.charts import TEMPO, TEMPO_DISTRIBUTED, Chart
from components.regions import Cloud
from components.residency import ResidencyBoundary, ResidencyError, require_inside
from components.settings import DNS_LABEL, OidcProvider

TYPE = "obsfleet:index:TempoS3Backend"

# Versions overwritten by the app, or expired by the retention rule, stay recoverable this long
# (accidental or malicious deletes); it also bounds erasure-by-expiry at retention + this window.
NONCURRENT_DAYS = 7
# Tempo's S3 guide recommends aborting incomplete multipart uploads after one day.
ABORT_MULTIPART_DAYS = 1
# Server access logs are the bucket's audit trail: kept a quarter, longer than any telemetry.
ACCESS_LOG_RETENTION_DAYS = 90
ACCESS_LOG_PREFIX = "s3-access/"
# CIS Google Cloud benchmark 1.10: rotate KMS keys at least every 90 days. AWS rotates yearly.
GCP_KEY_ROTATION = f"{90 * 24 * 3600}s"
GCS_AGENT_KEY_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# Cloud Storage writes usage logs as this Google group (storage/docs/access-logs).
GCS_LOG_WRITER = "group:cloud-storage-analytics@google.com"

# Kubernetes ServiceAccount names are DNS subdomains (RFC 1123).
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"

S3_WORKLOAD_BUCKET_ACTIONS = ["s3:ListBucket"]
S3_WORKLOAD_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
# Tempo's minimal S3 policy (Tempo docs, configuration/hosted-storage/s3) also tags objects.
S3_TEMPO_OBJECT_ACTIONS = ["s3:GetObjectTagging", "s3:PutObjectTagging"]
KMS_WORKLOAD_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]

SA_ANNOTATION = {
    Cloud.AWS: "eks.amazonaws.com/role-arn",
    Cloud.GCP: "iam.gke.io/gcp-service-account",
}


class Purpose(str, Enum):
    TRACES = "traces"
    LOGS = "logs"
    METRICS = "metrics"
    """Mimir's blocks (the hub's scale tier)."""


@dataclass(frozen=True)
class TempoS3BackendArgs:
    boundary: ResidencyBoundary
    """The jurisdiction: its providers declare every resource, its countries bound every location."""
    purpose: Purpose
    """What the bucket holds (traces for Tempo, logs for Loki); named in descriptions."""
    retention_days: int
    """Objects expire this many days after they are written."""
    namespace: str
    """Kubernetes namespace of the workload (Tempo or Loki) granted access."""
    service_account: str
    """Kubernetes ServiceAccount of the workload; the Helm fragment names it so the trust matches."""
    oidc_provider: Optional[OidcProvider] = None
    """aws only (required there): the EKS cluster's IAM OIDC provider that IRSA trusts."""
    project: Optional[str] = None
    """gcp only (required there): the Google Cloud project of the bucket and the GKE workload pool."""
    replica_region: Optional[str] = None
    """Disaster-recovery copy in this region; it must lie inside the boundary."""


@dataclass(frozen=True)
class ObjectStore:
    """What a chart needs to reach the bucket: where it is and which cloud identity pods assume."""

    cloud: Cloud
    bucket: str
    region: str
    service_account: str
    identity: str
    """IAM role ARN (IRSA) or Google service account email (Workload Identity)."""


def service_account_values(store: ObjectStore) -> dict[str, Any]:
    """The chart's ServiceAccount, named as the cloud trust expects and annotated with the identity."""
    return {
        "serviceAccount": {
            "create": True,
            "name": store.service_account,
            "annotations": {SA_ANNOTATION[store.cloud]: store.identity},
        }
    }


def _tempo_trace_backend(store: ObjectStore) -> dict[str, Any]:
    if store.cloud is Cloud.AWS:
        endpoint = f"s3.{store.region}.amazonaws.com"
        return {"backend": "s3", "s3": {"bucket": store.bucket, "endpoint": endpoint, "region": store.region}}
    return {"backend": "gcs", "gcs": {"bucket_name": store.bucket}}


def _tempo_storage_root(chart: Chart) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Where the chart reads Tempo's `storage` block: `tempo.storage` (tempo) or `storage` (tempo-distributed)."""
    if chart == TEMPO:
        return lambda storage: {"tempo": storage}
    if chart == TEMPO_DISTRIBUTED:
        return lambda storage: storage
    raise ValueError(f"tempo_storage: chart {chart.name} {chart.version} is not {TEMPO.name} or {TEMPO_DISTRIBUTED.name}")


def tempo_storage_values(store: ObjectStore, chart: Chart = TEMPO) -> dict[str, Any]:
    """Storage fragment for the tempo or tempo-distributed chart."""
    root = _tempo_storage_root(chart)
    return {**root({"storage": {"trace": _tempo_trace_backend(store)}}), **service_account_values(store)}


def loki_storage_values(store: ObjectStore) -> dict[str, Any]:
    """Storage fragment for the loki chart.

    Ruler rules are kept local (declared by the program, mounted from ConfigMaps), not in the
    bucket: its lifecycle would expire rules written through the ruler API after retention_days.
    """
    storage: dict[str, Any] = {"bucketNames": {"chunks": store.bucket}}
    if store.cloud is Cloud.AWS:
        storage.update(type="s3", s3={"region": store.region})
    else:
        storage.update(type="gcs")
    return {
        "loki": {"storage": storage, "rulerConfig": {"storage": {"type": "local"}}},
        **service_account_values(store),
    }


def gcp_account_id(name: str) -> str:
    """A Google service account id (6-30 chars of [a-z0-9-], starting with a letter) for `name`."""
    base = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    if not base[:1].isalpha():
        base = f"sa-{base}"
    if len(base) > 30:
        base = f"{base[:23].rstrip('-')}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
    return base if len(base) >= 6 else f"{base}-store"


def _validate(name: str, args: TempoS3BackendArgs) -> None:
    boundary = args.boundary
    where = f"TempoS3Backend {name}"
    if not isinstance(args.purpose, Purpose):
        raise ValueError(f"{where}: purpose {args.purpose!r} is not one of {', '.join(p.value for p in Purpose)}")
    if args.retention_days <= 0:
        raise ValueError(f"{where}: retention_days must be positive, not {args.retention_days}")
    if not re.match(DNS_LABEL, args.namespace):
        raise ValueError(f"{where}: namespace {args.namespace!r} is not a DNS label")
    if not re.match(_DNS_SUBDOMAIN, args.service_account):
        raise ValueError(f"{where}: service_account {args.service_account!r} is not a Kubernetes name")
    if boundary.cloud is Cloud.AWS:
        if args.oidc_provider is None:
            raise ValueError(f"{where}: oidc_provider is required on aws (the EKS OIDC provider IRSA trusts)")
        if args.project is not None:
            raise ValueError(f"{where}: project is for gcp only")
    else:
        if not args.project:
            raise ValueError(f"{where}: project is required on gcp (bucket project and workload pool)")
        if args.oidc_provider is not None:
            raise ValueError(f"{where}: oidc_provider is for aws only (gcp uses Workload Identity)")
    if args.replica_region is not None:
        require_inside("replicaRegion", boundary.cloud, args.replica_region, boundary.regime, boundary.countries)
        if args.replica_region == boundary.region:
            raise ResidencyError(f"obsfleet:replicaRegion: '{args.replica_region}' is the primary region")
        if boundary.replica_provider is None:
            raise ValueError(f"{where}: replica_region needs a boundary with a replica provider (its replica_region)")


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


def irsa_trust(oidc: OidcProvider, namespace: str, service_account: str) -> str:
    """IRSA trust policy (JSON): only `namespace/service_account` of the cluster behind `oidc` may
    assume the role, with tokens issued for STS."""
    issuer = oidc.url.removeprefix("https://").rstrip("/")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc.arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
    )


def _allow(actions: list[str], resource: Any, condition: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def _via_s3(region: str) -> dict[str, Any]:
    """Key use only through S3 in that region, never by direct KMS calls."""
    return {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


@dataclass(frozen=True)
class _Site:
    """One region's share of the backend: where its resources go and what they are."""

    prefix: str
    region: str
    provider: pulumi.ProviderResource
    explicit_region: bool
    """Replica resources name their region too, so placement never depends on the provider's."""

    def opts(self, parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, depends_on=list(depends_on))

    @property
    def aws_region(self) -> dict[str, str]:
        return {"region": self.region} if self.explicit_region else {}


@dataclass(frozen=True)
class _S3:
    key: aws.kms.Key
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning


@dataclass(frozen=True)
class _GCS:
    key: gcp.kms.CryptoKey
    bucket: gcp.storage.Bucket


class TempoS3Backend(pulumi.ComponentResource):
    """A bucket a security review accepts on first sight, for Tempo traces or Loki logs."""

    bucket: pulumi.Output[str]
    """Bucket name."""
    location: pulumi.Output[str]
    """Region of the bucket."""
    role_arn: Optional[pulumi.Output[str]]
    """aws: the IRSA role the workload's ServiceAccount assumes."""
    service_account_email: Optional[pulumi.Output[str]]
    """gcp: the Google service account the workload's ServiceAccount impersonates."""
    replica_bucket: Optional[pulumi.Output[str]]
    """The disaster-recovery copy, when replica_region is set."""

    def __init__(self, name: str, args: TempoS3BackendArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # Validate before registering anything: a backend outside its boundary declares nothing.
        _validate(name, args)
        super().__init__(TYPE, name, None, opts)
        self._args = args
        boundary = args.boundary
        primary = _Site(name, boundary.region, boundary.provider, explicit_region=False)
        replica = (
            _Site(f"{name}-replica", args.replica_region, boundary.replica_provider, explicit_region=True)
            if args.replica_region and boundary.replica_provider
            else None
        )
        self.location = pulumi.Output.from_input(boundary.region)
        self.role_arn = self.service_account_email = self.replica_bucket = None
        if boundary.cloud is Cloud.AWS:
            self._identity = self._aws(name, args, primary, replica)
        else:
            self._identity = self._gcp(name, args, primary, replica)
        self.register_outputs(
            {
                "bucket": self.bucket,
                "location": self.location,
                "roleArn": self.role_arn,
                "serviceAccountEmail": self.service_account_email,
                "replicaBucket": self.replica_bucket,
            }
        )

    # --- Helm fragments ------------------------------------------------------------------------

    def object_store(self) -> pulumi.Output[ObjectStore]:
        """Where the bucket is and which identity the workload's ServiceAccount assumes."""
        args = self._args
        return pulumi.Output.all(self.bucket, self._identity).apply(
            lambda v: ObjectStore(args.boundary.cloud, v[0], args.boundary.region, args.service_account, v[1])
        )

    def tempo_storage(self, chart: Chart = TEMPO) -> pulumi.Output[dict]:
        """Helm values for Tempo's trace storage (tempo or tempo-distributed chart), no credentials."""
        _tempo_storage_root(chart)  # a wrong chart fails here, not later inside an apply
        return self.object_store().apply(lambda store: tempo_storage_values(store, chart))

    def loki_storage(self) -> pulumi.Output[dict]:
        """Helm values for Loki's object storage (loki chart), no credentials."""
        return self.object_store().apply(loki_storage_values)

    # --- AWS -----------------------------------------------------------------------------------

    def _aws(self, name: str, args: TempoS3BackendArgs, primary: _Site, replica: Optional[_Site]) -> pulumi.Output[str]:
        account = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self, provider=primary.provider)
        ).account_id
        main = self._s3_site(primary, args, account)
        self.bucket = main.bucket.bucket
        if replica is not None:
            copy = self._s3_site(replica, args, account)
            self.replica_bucket = copy.bucket.bucket
            self._s3_replication(name, primary, main, replica, copy)
        role = self._irsa_role(name, args, primary, main)
        self.role_arn = role.arn
        return role.arn

    def _s3_site(self, site: _Site, args: TempoS3BackendArgs, account: pulumi.Output[str]) -> _S3:
        p = site.prefix
        key = aws.kms.Key(
            f"{p}-key",
            description=f"obsfleet {args.purpose.value} bucket {p}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            **site.aws_region,
            opts=site.opts(self),
        )
        logs = aws.s3.Bucket(f"{p}-access-logs", **site.aws_region, opts=site.opts(self))
        bucket = aws.s3.Bucket(f"{p}-bucket", **site.aws_region, opts=site.opts(self))
        # S3 server access logging cannot deliver into an SSE-KMS bucket (S3 User Guide, "Enabling
        # Amazon S3 server access logging"): the log bucket uses SSE-S3 (AES256).
        self._harden_s3(
            site,
            f"{p}-access-logs",
            logs,
            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(sse_algorithm="AES256"),
            ACCESS_LOG_RETENTION_DAYS,
            {
                "Sid": "S3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": pulumi.Output.concat(logs.arn, "/", ACCESS_LOG_PREFIX, "*"),
                "Condition": {"ArnLike": {"aws:SourceArn": bucket.arn}, "StringEquals": {"aws:SourceAccount": account}},
            },
        )
        versioning = self._harden_s3(
            site,
            f"{p}-bucket",
            bucket,
            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=key.arn
            ),
            args.retention_days,
        )
        aws.s3.BucketLogging(
            f"{p}-bucket-logging",
            bucket=bucket.id,
            target_bucket=logs.id,
            target_prefix=ACCESS_LOG_PREFIX,
            target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                    partition_date_source="EventTime"
                )
            ),
            **site.aws_region,
            opts=site.opts(self),
        )
        return _S3(key, bucket, versioning)

    def _harden_s3(
        self,
        site: _Site,
        name: str,
        bucket: aws.s3.Bucket,
        encryption: aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs,
        expire_days: int,
        *grants: dict[str, Any],
    ) -> aws.s3.BucketVersioning:
        """Versioning, default encryption, all four public-access blocks, no ACLs, TLS-only, expiry."""
        region = site.aws_region
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            **region,
            opts=site.opts(self),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=encryption,
                    bucket_key_enabled=encryption.sse_algorithm == "aws:kms",
                    # A customer-provided key (SSE-C) would put objects beyond our key's control.
                    blocked_encryption_types=["SSE-C"],
                )
            ],
            **region,
            opts=site.opts(self),
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            **region,
            opts=site.opts(self),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            **region,
            opts=site.opts(self),
        )
        # After the public-access block: S3 rejects concurrent bucket-configuration writes.
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=_policy(_tls_only(bucket.arn), *grants),
            **region,
            opts=site.opts(self, depends_on=[public_access]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=_s3_lifecycle(expire_days),
            **region,
            opts=site.opts(self, depends_on=[versioning]),
        )
        return versioning

    def _irsa_role(self, name: str, args: TempoS3BackendArgs, site: _Site, main: _S3) -> aws.iam.Role:
        oidc = args.oidc_provider
        assert oidc is not None  # _validate
        objects = S3_WORKLOAD_OBJECT_ACTIONS + (S3_TEMPO_OBJECT_ACTIONS if args.purpose is Purpose.TRACES else [])
        role = aws.iam.Role(
            f"{name}-role",
            description=f"{args.purpose.value} storage for {args.namespace}/{args.service_account} (IRSA)",
            assume_role_policy=irsa_trust(oidc, args.namespace, args.service_account),
            opts=site.opts(self),
        )
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=_policy(
                _allow(S3_WORKLOAD_BUCKET_ACTIONS, main.bucket.arn),
                _allow(objects, pulumi.Output.concat(main.bucket.arn, "/*")),
                _allow(KMS_WORKLOAD_ACTIONS, main.key.arn),
            ),
            opts=site.opts(self),
        )
        return role

    def _s3_replication(self, name: str, primary: _Site, main: _S3, replica: _Site, copy: _S3) -> None:
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
            opts=primary.opts(self),
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
            opts=primary.opts(self),
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
            opts=primary.opts(self, depends_on=[main.versioning, copy.versioning, policy]),
        )

    # --- GCP -----------------------------------------------------------------------------------

    def _gcp(self, name: str, args: TempoS3BackendArgs, primary: _Site, replica: Optional[_Site]) -> pulumi.Output[str]:
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=primary.provider)
        # The Cloud Storage service agent encrypts and decrypts with the bucket's key.
        agent = gcp.storage.get_project_service_account_output(project=args.project, opts=invoke).member
        main = self._gcs_site(primary, args, agent)
        self.bucket = main.bucket.name
        account = gcp.serviceaccount.Account(
            f"{name}-gsa",
            account_id=gcp_account_id(name),
            display_name=f"obsfleet {args.purpose.value} storage ({args.namespace}/{args.service_account})",
            project=args.project,
            opts=primary.opts(self),
        )
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{args.project}.svc.id.goog[{args.namespace}/{args.service_account}]",
            opts=primary.opts(self),
        )
        gcp.storage.BucketIAMMember(
            f"{name}-bucket-access",
            bucket=main.bucket.name,
            role="roles/storage.objectAdmin",
            member=account.member,
            opts=primary.opts(self),
        )
        if replica is not None:
            copy = self._gcs_site(replica, args, agent)
            self.replica_bucket = copy.bucket.name
            self._gcs_replication(name, args, primary, main, copy, invoke)
        self.service_account_email = account.email
        return account.email

    def _gcs_site(self, site: _Site, args: TempoS3BackendArgs, agent: pulumi.Output[str]) -> _GCS:
        p = site.prefix
        ring = gcp.kms.KeyRing(f"{p}-keyring", location=site.region, project=args.project, opts=site.opts(self))
        key = gcp.kms.CryptoKey(
            f"{p}-key",
            key_ring=ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=GCP_KEY_ROTATION,
            opts=site.opts(self),
        )
        key_grant = gcp.kms.CryptoKeyIAMMember(
            f"{p}-key-storage-agent",
            crypto_key_id=key.id,
            role=GCS_AGENT_KEY_ROLE,
            member=agent,
            opts=site.opts(self),
        )
        # Cloud Storage checks the agent's key access when a bucket gets a default key.
        logs = self._gcs_bucket(site, args, f"{p}-access-logs", key, ACCESS_LOG_RETENTION_DAYS, None, [key_grant])
        writer = gcp.storage.BucketIAMMember(
            f"{p}-access-logs-writer",
            bucket=logs.name,
            role="roles/storage.objectCreator",
            member=GCS_LOG_WRITER,
            opts=site.opts(self),
        )
        bucket = self._gcs_bucket(
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
        self,
        site: _Site,
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
            opts=site.opts(self, depends_on=depends_on),
        )

    def _gcs_replication(
        self,
        name: str,
        args: TempoS3BackendArgs,
        primary: _Site,
        main: _GCS,
        copy: _GCS,
        invoke: pulumi.InvokeOutputOptions,
    ) -> None:
        """Cross-bucket replication (Storage Transfer Service) of new objects into the replica.

        Deletes are not replicated: the replica's own lifecycle expires its copies alike.
        """
        transfer_agent = gcp.storage.get_transfer_project_service_account_output(project=args.project, opts=invoke).member
        # The roles the console grants for a replication job (storage/docs/using-cross-bucket-replication).
        source = gcp.storage.BucketIAMMember(
            f"{name}-replication-source",
            bucket=main.bucket.name,
            role="roles/storage.legacyBucketOwner",
            member=transfer_agent,
            opts=primary.opts(self),
        )
        sink = gcp.storage.BucketIAMMember(
            f"{name}-replication-sink",
            bucket=copy.bucket.name,
            role="roles/storage.legacyBucketWriter",
            member=transfer_agent,
            opts=primary.opts(self),
        )
        gcp.storage.TransferJob(
            f"{name}-replication",
            description=f"obsfleet {args.purpose.value}: disaster-recovery copy of {name}",
            project=args.project,
            replication_spec=gcp.storage.TransferJobReplicationSpecArgs(
                gcs_data_source=gcp.storage.TransferJobReplicationSpecGcsDataSourceArgs(bucket_name=main.bucket.name),
                gcs_data_sink=gcp.storage.TransferJobReplicationSpecGcsDataSinkArgs(bucket_name=copy.bucket.name),
            ),
            opts=primary.opts(self, depends_on=[source, sink]),
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
