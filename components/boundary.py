"""ResidencyBoundary: the jurisdiction a stack lives in, and the only providers it may use.

Every resource of a stack is created through the providers made here, so each one is pinned to
the boundary's region and tagged with its regime; nothing falls back to an ambient default
provider (whose region comes from whatever machine runs `pulumi up`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from components.regions import Cloud, Regime, inside, locate, locate_placement, regime_countries
from components.residency import require_inside

TYPE = "obsfleet:index:ResidencyBoundary"


@dataclass(frozen=True)
class ResidencyBoundaryArgs:
    regime: Regime
    """Data-protection regime whose countries bound every location of the stack."""
    cloud: Cloud
    region: str
    """Primary region: every provider of the boundary is pinned to it."""
    stack: str
    """Stack name, carried as the `obsfleet-stack` tag/label."""
    cluster: str
    """Cluster name, carried as the `obsfleet-cluster` tag/label."""
    project: Optional[str] = None
    """Google Cloud project (gcp only)."""
    replica_region: Optional[str] = None
    """Disaster-recovery region; it must lie inside the boundary too."""
    allowed_countries: Optional[Sequence[str]] = None
    """Replaces the regime's default countries."""
    allow_adequacy: bool = False
    """gdpr only: also allow countries with an EU adequacy decision."""
    kube_context: Optional[str] = None
    kubeconfig: Optional[pulumi.Input[str]] = None
    """A secret kubeconfig; without one the provider uses the ambient kubeconfig."""


class ResidencyBoundary(pulumi.ComponentResource):
    """Validates the stack's locations and owns its explicit providers."""

    regime: Regime
    cloud: Cloud
    region: str
    provider: pulumi.ProviderResource
    """The cloud provider (aws or gcp) pinned to the primary region."""
    replica_provider: Optional[pulumi.ProviderResource]
    kubernetes: k8s.Provider
    tls: tls.Provider
    providers: list[pulumi.ProviderResource]
    """Providers to hand to components (`ResourceOptions(providers=...)`); children inherit them."""
    tags: dict[str, str]

    def __init__(self, name: str, args: ResidencyBoundaryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # Validate before registering anything: a stack outside its boundary declares nothing.
        countries = regime_countries(args.regime, args.allowed_countries, args.allow_adequacy)
        require_inside("region", args.cloud, args.region, args.regime, countries)
        if args.replica_region is not None:
            require_inside("replicaRegion", args.cloud, args.replica_region, args.regime, countries)
        # Its inputs carry the regime and countries: the policy pack judges each resource as it is
        # registered (Analyze), before this component registers its outputs.
        super().__init__(TYPE, name, {"regime": args.regime.value, "countries": sorted(countries)}, opts)
        self.regime = args.regime
        # Annotated here, not on the class: the SDK would read a class annotation as the type of
        # the `countries` input it resolves (a list), and refuse the set.
        self.countries: frozenset[str] = countries
        self.cloud, self.region = args.cloud, args.region
        self.tags = {
            "data-residency": args.regime.value,
            "obsfleet-stack": args.stack,
            "obsfleet-cluster": args.cluster,
        }
        self.provider = self._cloud_provider(f"{name}-{args.cloud.value}", args, args.region)
        self.replica_provider = (
            self._cloud_provider(f"{name}-{args.cloud.value}-replica", args, args.replica_region)
            if args.replica_region
            else None
        )
        self.kubernetes = k8s.Provider(
            f"{name}-kubernetes",
            context=args.kube_context,
            kubeconfig=args.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.tls = tls.Provider(f"{name}-tls", opts=pulumi.ResourceOptions(parent=self))
        self.providers = [self.provider, self.kubernetes, self.tls]
        self.register_outputs({"regime": args.regime.value, "region": args.region, "countries": sorted(countries)})

    def _cloud_provider(self, name: str, args: ResidencyBoundaryArgs, region: str) -> pulumi.ProviderResource:
        opts = pulumi.ResourceOptions(parent=self)
        if args.cloud is Cloud.AWS:
            return aws.Provider(
                name,
                region=region,
                default_tags=aws.ProviderDefaultTagsArgs(tags=self.tags),
                opts=opts,
            )
        return gcp.Provider(name, project=args.project, region=region, default_labels=self.tags, opts=opts)

    def contains(self, location: str | Sequence[str]) -> bool:
        """Whether a region / GCS location (or a custom dual-region's member regions) lies inside."""
        if isinstance(location, str):
            return inside(locate(self.cloud, location), self.countries)
        return inside(locate_placement(self.cloud, location), self.countries)
