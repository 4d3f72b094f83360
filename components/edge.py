"""EdgeAgent: one cluster's Prometheus agent and OpenTelemetry Collector, shipping to its hub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.residency import ResidencyBoundary
from components.settings import EdgeSettings

TYPE = "obsfleet:index:EdgeAgent"


@dataclass(frozen=True)
class EdgeAgentArgs:
    settings: EdgeSettings
    """Validated edge configuration."""
    boundary: ResidencyBoundary
    """The jurisdiction; its providers reach this component through `opts.providers`."""


class EdgeAgent(pulumi.ComponentResource):
    cluster: pulumi.Output[str]
    regime: pulumi.Output[str]
    hub_stack: pulumi.Output[str]
    remote_write_url: pulumi.Output[str]

    def __init__(self, name: str, args: EdgeAgentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(TYPE, name, None, opts)
        settings = args.settings
        self.hub = pulumi.StackReference(f"{name}-hub", stack_name=settings.hub_stack, opts=pulumi.ResourceOptions(parent=self))
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=settings.kubernetes.namespace,
                labels={"data-residency": settings.regime.value},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cluster = pulumi.Output.from_input(settings.cluster)
        self.regime = pulumi.Output.from_input(settings.regime.value)
        self.hub_stack = pulumi.Output.from_input(settings.hub_stack)
        self.remote_write_url = self.hub.require_output("remoteWriteUrl")
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        """The stack outputs of DESIGN.md."""
        return {
            "cluster": self.cluster,
            "regime": self.regime,
            "hubStack": self.hub_stack,
            "remoteWriteUrl": self.remote_write_url,
        }
