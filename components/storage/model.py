"""What TempoS3Backend is asked for (its Args) and what both clouds' halves share."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional, Sequence

import pulumi

from components.boundary import ResidencyBoundary
from components.settings import OidcProvider

# Versions overwritten by the app, or expired by the retention rule, stay recoverable this long
# (accidental or malicious deletes); it also bounds erasure-by-expiry at retention + this window.
NONCURRENT_DAYS = 7
# Tempo's S3 guide recommends aborting incomplete multipart uploads after one day.
ABORT_MULTIPART_DAYS = 1
# Server access logs are the bucket's audit trail: kept a quarter, longer than any telemetry.
ACCESS_LOG_RETENTION_DAYS = 90


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
    """What the bucket holds (traces for Tempo, logs for Loki, blocks for Mimir); named in descriptions."""
    retention_days: int
    """Objects expire this many days after they are written."""
    namespace: str
    """Kubernetes namespace of the workload granted access."""
    service_account: str
    """Kubernetes ServiceAccount of the workload; the Helm fragment names it so the trust matches."""
    oidc_provider: Optional[OidcProvider] = None
    """aws only (required there): the EKS cluster's IAM OIDC provider that IRSA trusts."""
    project: Optional[str] = None
    """gcp only (required there): the Google Cloud project of the bucket and the GKE workload pool."""
    replica_region: Optional[str] = None
    """Disaster-recovery copy in this region; it must lie inside the boundary."""


@dataclass(frozen=True)
class Site:
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
class Declared:
    """What one cloud's half declared: the bucket, its replica, and the identity pods assume."""

    bucket: pulumi.Output[str]
    replica_bucket: Optional[pulumi.Output[str]]
    identity: pulumi.Output[str]
    """IAM role ARN (aws) or Google service account email (gcp)."""
