"""TempoS3Backend: a hardened, in-boundary bucket for Tempo traces, Loki logs or Mimir blocks, which
pods reach through workload identity, never a key (docs/design.md "Object storage").

Its type name is part of every URN, so it stays TempoS3Backend whatever the bucket holds.
"""

from __future__ import annotations

import re
from typing import Optional

import pulumi

from components.charts import TEMPO, Chart
from components.regions import Cloud
from components.residency import ResidencyError, require_inside
from components.settings import DNS_LABEL, is_dns_subdomain
from components.storage import gcs, s3
from components.storage.fragments import ObjectStore, loki_storage_values, tempo_storage_root, tempo_storage_values
from components.storage.model import Purpose, Site, TempoS3BackendArgs

TYPE = "obsfleet:index:TempoS3Backend"


def _validate(name: str, args: TempoS3BackendArgs) -> None:
    boundary = args.boundary
    where = f"TempoS3Backend {name}"
    if not isinstance(args.purpose, Purpose):
        raise ValueError(f"{where}: purpose {args.purpose!r} is not one of {', '.join(p.value for p in Purpose)}")
    if args.retention_days <= 0:
        raise ValueError(f"{where}: retention_days must be positive, not {args.retention_days}")
    if not re.match(DNS_LABEL, args.namespace):
        raise ValueError(f"{where}: namespace {args.namespace!r} is not a DNS label")
    if not is_dns_subdomain(args.service_account):
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


class TempoS3Backend(pulumi.ComponentResource):
    """A bucket a security review accepts on first sight, for traces, logs or metric blocks."""

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
        primary = Site(name, boundary.region, boundary.provider, explicit_region=False)
        replica = (
            Site(f"{name}-replica", args.replica_region, boundary.replica_provider, explicit_region=True)
            if args.replica_region and boundary.replica_provider
            else None
        )
        self.location = pulumi.Output.from_input(boundary.region)
        cloud = s3 if boundary.cloud is Cloud.AWS else gcs
        declared = cloud.declare(self, name, args, primary, replica)
        self.bucket, self.replica_bucket, self._identity = declared.bucket, declared.replica_bucket, declared.identity
        self.role_arn = declared.identity if boundary.cloud is Cloud.AWS else None
        self.service_account_email = declared.identity if boundary.cloud is Cloud.GCP else None
        self.register_outputs(
            {
                "bucket": self.bucket,
                "location": self.location,
                "roleArn": self.role_arn,
                "serviceAccountEmail": self.service_account_email,
                "replicaBucket": self.replica_bucket,
            }
        )

    def object_store(self) -> pulumi.Output[ObjectStore]:
        """Where the bucket is and which identity the workload's ServiceAccount assumes."""
        args = self._args
        return pulumi.Output.all(self.bucket, self._identity).apply(
            lambda v: ObjectStore(args.boundary.cloud, v[0], args.boundary.region, args.service_account, v[1])
        )

    def tempo_storage(self, chart: Chart = TEMPO) -> pulumi.Output[dict]:
        """Helm values for Tempo's trace storage (tempo or tempo-distributed chart), no credentials."""
        tempo_storage_root(chart)  # a wrong chart fails here, not later inside an apply
        return self.object_store().apply(lambda store: tempo_storage_values(store, chart))

    def loki_storage(self) -> pulumi.Output[dict]:
        """Helm values for Loki's object storage (loki chart), no credentials."""
        return self.object_store().apply(loki_storage_values)
