"""HubStack: the jurisdiction's hub, receiving everything its edges send."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.endpoints import ingest_endpoints
from components.residency import ResidencyBoundary
from components.settings import HubSettings

TYPE = "obsfleet:index:HubStack"


@dataclass(frozen=True)
class HubStackArgs:
    settings: HubSettings
    """Validated hub configuration."""
    boundary: ResidencyBoundary
    """The jurisdiction; its providers reach this component through `opts.providers`."""


class HubStack(pulumi.ComponentResource):
    regime: pulumi.Output[str]
    region: pulumi.Output[str]
    remote_write_url: pulumi.Output[str]
    otlp_endpoint: pulumi.Output[str]
    loki_push_url: pulumi.Output[str]

    def __init__(self, name: str, args: HubStackArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(TYPE, name, None, opts)
        settings = args.settings
        endpoints = ingest_endpoints(settings)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=settings.kubernetes.namespace,
                labels={"data-residency": settings.regime.value},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.regime = pulumi.Output.from_input(settings.regime.value)
        self.region = pulumi.Output.from_input(settings.region)
        self.remote_write_url = pulumi.Output.from_input(endpoints.remote_write_url)
        self.otlp_endpoint = pulumi.Output.from_input(endpoints.otlp_endpoint)
        self.loki_push_url = pulumi.Output.from_input(endpoints.loki_push_url)
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        """The stack outputs of DESIGN.md, the contract with edges and review tools."""
        return {
            "regime": self.regime,
            "region": self.region,
            "remoteWriteUrl": self.remote_write_url,
            "otlpEndpoint": self.otlp_endpoint,
            "lokiPushUrl": self.loki_push_url,
        }
