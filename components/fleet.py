"""The program: settings -> ResidencyBoundary -> HubStack or EdgeAgent -> stack outputs.

The one place besides settings.py that reads stack config: the secrets (kubeconfig, Grafana's
admin password, the alert receivers' keys), handed to the components through their Args."""

from __future__ import annotations

from typing import Any

import pulumi

from components.boundary import ResidencyBoundary, ResidencyBoundaryArgs
from components.edge import EdgeAgent, EdgeAgentArgs, HubLink, HubLinkArgs
from components.hub import HubStack, HubStackArgs
from components.settings import GRAFANA_ADMIN_PASSWORD, KUBECONFIG, HubSettings, Settings


async def deploy(settings: Settings, stack: str) -> dict[str, Any]:
    """Declare the stack's resources; return its outputs (docs/design.md "Stack outputs"). An edge
    awaits its hub's answer before declaring what depends on it."""
    config = pulumi.Config("obsfleet")
    boundary = ResidencyBoundary(
        "boundary",
        ResidencyBoundaryArgs(
            regime=settings.regime,
            cloud=settings.cloud,
            region=settings.region,
            stack=stack,
            cluster=settings.cluster,
            project=settings.project,
            replica_region=settings.replica_region if isinstance(settings, HubSettings) else None,
            allowed_countries=settings.residency.allowed_countries,
            allow_adequacy=settings.residency.allow_adequacy,
            kube_context=settings.kubernetes.context,
            kubeconfig=config.get_secret(KUBECONFIG),
        ),
    )
    opts = pulumi.ResourceOptions(providers=boundary.providers)
    if isinstance(settings, HubSettings):
        receiver_keys = sorted({r.secret for r in settings.alerting.receivers})
        args = HubStackArgs(
            settings=settings,
            boundary=boundary,
            grafana_admin_password=config.require_secret(GRAFANA_ADMIN_PASSWORD),
            receiver_secrets={key: config.require_secret(key) for key in receiver_keys},
        )
        return HubStack(settings.cluster, args, opts).outputs()
    link = HubLink(f"{settings.cluster}-link", HubLinkArgs(stack_name=settings.stack_ref(settings.hub_stack)))
    args = EdgeAgentArgs(settings=settings, boundary=boundary, hub=link.reference, answer=await link.read())
    return EdgeAgent(settings.cluster, args, opts).outputs()
