"""EdgeAgent: one cluster's metrics agent (Prometheus agent or vmagent, docs/edge-agents.md) and
OpenTelemetry Collector, shipping to its hub.

Everything from the hub comes through a StackReference, so the regime check runs inside an
`apply` and every resource takes an input gated on it: an edge pointed at another jurisdiction's
hub declares nothing. Until the hub exports a certificate for this cluster, the edge declares only
its identity (`EdgeIdentity`) and says it waits (docs/deployments.md "Edge identities"); that
decides what gets declared, so the program's async entrypoint awaits the hub's answer
(`HubLink.read`) and hands it to the component as plain values.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Iterable, Optional, TypeVar

import pulumi
import pulumi_kubernetes as k8s

from components import edge_facts, edge_sizing, vmagent_sizing
from components.boundary import ResidencyBoundary
from components.charts import CILIUM, KUBE_PROMETHEUS_STACK, OPENTELEMETRY_COLLECTOR, VICTORIA_METRICS_AGENT, release
from components.identity import REQUEST_OUTPUT
from components.pki import EdgeIdentity, EdgeIdentityArgs, EdgeTls
from components.settings import Agent, ConfigError, EdgeSettings
from components.values.edge_cilium import cilium_values
from components.values.edge_collector import collector_values
from components.values.edge_prometheus import kube_prometheus_stack_values
from components.values.edge_vmagent import exporters_only_values, vmagent_values

TYPE = "obsfleet:index:EdgeAgent"
HUB_LINK_TYPE = "obsfleet:index:HubLink"
MESH_NAMESPACE = "kube-system"
"""Cilium runs where the cluster's CNI runs. The mesh release is the whole Cilium chart: it makes
Cilium the cluster's CNI (components/values/edge_cilium.py), it does not add a mesh to a CNI
installed by something else."""
CERTIFICATES_OUTPUT = "edgeCertificates"
REQUIRED_HUB_OUTPUTS = ("regime", "edges", "remoteWriteUrl", "otlpEndpoint", "lokiPushUrl", "caCert", CERTIFICATES_OUTPUT)
"""What an edge reads from its hub (docs/design.md "Stack outputs")."""
ONBOARDING = "onboarding"
"""Edge output: `ready`, or what the operator is to do for the hub to sign this edge."""
READY = "ready"

T = TypeVar("T")


class HubError(pulumi.RunError):
    """The hub stack cannot take this edge: another jurisdiction's hub, or one without the outputs edges need."""


def check_regime(edge: str, edge_regime: str, hub: str, hub_regime: Any) -> str:
    if hub_regime != edge_regime:
        raise HubError(
            f"obsfleet:hubStack: {edge} ({edge_regime}) cannot ship to {hub} ({hub_regime}): name a {edge_regime} hub"
        )
    return hub_regime


def check_hub(edge: str, edge_regime: str, hub: str, exported: Iterable[str], hub_regime: Any) -> str:
    """The hub's regime if the hub exports what an edge needs and shares the edge's regime."""
    names = set(exported)
    missing = [name for name in REQUIRED_HUB_OUTPUTS if name not in names]
    if missing:
        raise HubError(f"stack {hub} exports no {', '.join(missing)}: update the hub before its edges")
    return check_regime(edge, edge_regime, hub, hub_regime)


def waiting_message(edge: str, hub: str) -> str:
    return (
        f"waiting for a certificate: hub stack {hub} has none for {edge}; list {edge} in {hub}'s "
        f"obsfleet:edges, run `pulumi up` on {hub}, then on this stack again"
    )


@dataclass(frozen=True)
class HubAnswer:
    """The hub's outputs that decide which resources the edge declares (None where the hub exports
    none), read before the edge declares anything: an `apply` cannot decide that."""

    certificates: Any
    """`edgeCertificates`: whether the hub signed this edge yet."""
    regime: Any


@dataclass(frozen=True)
class HubLinkArgs:
    stack_name: str
    """The hub stack, fully qualified (`<org>/obsfleet/<stack>`)."""


class HubLink(pulumi.ComponentResource):
    """The edge's reference to its hub stack, declared ahead of the agent: the program awaits the
    hub's answer (`read`) before it declares the agent, which that answer shapes."""

    reference: pulumi.StackReference

    def __init__(self, name: str, args: HubLinkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(HUB_LINK_TYPE, name, None, opts)
        self.reference = pulumi.StackReference(
            f"{name}-hub", stack_name=args.stack_name, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({})

    async def read(self) -> HubAnswer:
        certificates, regime = await asyncio.gather(
            self.reference.get_output_details(CERTIFICATES_OUTPUT), self.reference.get_output_details("regime")
        )
        return HubAnswer(certificates.value, regime.value)


def check_facts(settings: EdgeSettings, entries: Any) -> None:
    """Refuse an edge whose region, seriesEstimate or bufferHours differ from its hub's `edges` entry."""
    problem = edge_facts.drift(settings, entries, settings.hub_stack.split("/")[-1])
    if problem:
        raise HubError(problem)


def _verified(settings: EdgeSettings, exported: Iterable[str], hub_regime: Any, entries: Any) -> str:
    regime = check_hub(settings.cluster, settings.regime.value, settings.hub_stack, exported, hub_regime)
    check_facts(settings, entries)
    return regime


@dataclass(frozen=True)
class EdgeAgentArgs:
    settings: EdgeSettings
    """Validated edge configuration."""
    boundary: ResidencyBoundary
    """The jurisdiction; its providers reach this component through `opts.providers`."""
    hub: pulumi.StackReference
    """The hub stack (`settings.hub_stack`): its outputs, as Outputs."""
    answer: HubAnswer
    """The same hub's deciding outputs as plain values (`HubLink.read`)."""


class EdgeAgent(pulumi.ComponentResource):
    cluster: pulumi.Output[str]
    regime: pulumi.Output[str]
    """The edge's regime, once the hub was found to share it."""
    hub_stack: pulumi.Output[str]
    remote_write_url: Optional[pulumi.Output[str]]
    """None while waiting for the hub's certificate."""
    onboarding: str
    """`ready`, or what the operator is to do for the hub to sign this edge."""
    sizing: edge_sizing.EdgeSizing
    """Queue config, resources and WAL volume of the Prometheus agent (components/edge_sizing.py)."""
    vmagent_sizing: vmagent_sizing.VmagentSizing
    """Queues, resources and disk buffer of vmagent (components/vmagent_sizing.py)."""

    def __init__(self, name: str, args: EdgeAgentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        settings = args.settings
        # Bad config fails before anything is declared.
        try:
            self.sizing = edge_sizing.for_settings(settings)
            self.vmagent_sizing = vmagent_sizing.for_settings(settings)
            mesh_values = cilium_values(settings) if settings.cluster_mesh is not None else None
        except ConfigError as err:
            raise pulumi.RunError(str(err)) from None
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.hub = args.hub
        self.cluster = pulumi.Output.from_input(settings.cluster)
        self.hub_stack = pulumi.Output.from_input(settings.stack_ref(settings.hub_stack))
        certificates = args.answer.certificates
        if not isinstance(certificates, dict) or settings.cluster not in certificates:
            self._wait(name, settings, args.answer.regime)
            return

        # Output names are not sensitive, even when the engine marks the whole outputs map secret.
        exported = pulumi.Output.unsecret(self.hub.outputs.apply(lambda outputs: sorted(outputs or {})))
        verified = pulumi.Output.all(exported, self.hub.get_output("regime"), self.hub.get_output("edges")).apply(
            lambda v: _verified(settings, v[0], v[1], v[2])
        )

        def gated(value: pulumi.Input[T]) -> pulumi.Output[T]:
            # Secretness comes from `value` alone: gating a secret keeps it secret, and nothing else becomes one.
            return pulumi.Output.all(verified, value).apply(lambda both: both[1])

        remote_write_url = gated(self.hub.get_output("remoteWriteUrl"))
        otlp_endpoint = gated(self.hub.get_output("otlpEndpoint"))
        loki_push_url = gated(self.hub.get_output("lokiPushUrl"))

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=gated(settings.kubernetes.namespace),
                labels={"data-residency": settings.regime.value},
            ),
            opts=child,
        )
        namespace = self.namespace.metadata.name
        self.identity = EdgeIdentity(
            f"{name}-identity",
            EdgeIdentityArgs(
                regime=settings.regime,
                cluster=settings.cluster,
                tls=EdgeTls(
                    certificate=gated(self.hub.get_output(CERTIFICATES_OUTPUT).apply(lambda c: c[settings.cluster])),
                    trust_bundle=gated(self.hub.get_output("caCert")),
                    hub_stack=settings.hub_stack,
                    namespace=namespace,
                ),
            ),
            opts=child,
        )
        assert self.identity.secret_name is not None  # declared with its TLS material
        tls_secret = self.identity.secret_name
        sizing = self.sizing

        self.mesh: Optional[k8s.helm.v3.Release] = None
        if mesh_values is not None:
            self.mesh = release(f"{name}-mesh", CILIUM, gated(MESH_NAMESPACE), mesh_values, parent=self)
        # With the mesh, Cilium is the cluster's CNI: the agent's pods get no network before it runs.
        network = [self.mesh] if self.mesh is not None else []
        # kube-prometheus-stack is on every edge: the Prometheus agent and its operator, or, with
        # vmagent, only the exporters. Switching agents upgrades this release in place and adds or
        # removes the vmagent one.
        if settings.agent is Agent.VMAGENT:
            metrics_values: pulumi.Input[dict[str, Any]] = gated(exporters_only_values(settings))
        else:
            metrics_values = pulumi.Output.all(remote_write_url, tls_secret).apply(
                lambda v: kube_prometheus_stack_values(settings, sizing, v[0], v[1])
            )
        self.metrics = release(
            f"{name}-metrics",
            KUBE_PROMETHEUS_STACK,
            namespace,
            metrics_values,
            parent=self,
            depends_on=[self.identity, *network],
        )
        self.vmagent: Optional[k8s.helm.v3.Release] = None
        if settings.agent is Agent.VMAGENT:
            vm_sizing = self.vmagent_sizing
            self.vmagent = release(
                f"{name}-vmagent",
                VICTORIA_METRICS_AGENT,
                namespace,
                pulumi.Output.all(remote_write_url, tls_secret).apply(
                    lambda v: vmagent_values(settings, vm_sizing, v[0], v[1])
                ),
                parent=self,
                depends_on=[self.identity, *network],
            )
        self.collector = release(
            f"{name}-collector",
            OPENTELEMETRY_COLLECTOR,
            namespace,
            pulumi.Output.all(otlp_endpoint, loki_push_url, tls_secret).apply(
                lambda v: collector_values(settings, v[0], v[1], v[2])
            ),
            parent=self,
            # The collector chart's PodMonitor is a monitoring.coreos.com/v1 resource: its CRD comes
            # with the metrics release, so installing both at once fails on a fresh cluster.
            depends_on=[self.identity, self.metrics],
        )

        self.regime = verified
        self.remote_write_url = remote_write_url
        self.onboarding = READY
        self.register_outputs(self.outputs())

    def _wait(self, name: str, settings: EdgeSettings, hub_regime: Any) -> None:
        """Only the identity: the hub has not signed this edge's request yet."""
        # A hub stack that has not run exports nothing; one that has must share the regime.
        if hub_regime is not None:
            check_regime(settings.cluster, settings.regime.value, settings.hub_stack, hub_regime)
        self.identity = EdgeIdentity(
            f"{name}-identity",
            EdgeIdentityArgs(regime=settings.regime, cluster=settings.cluster),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.regime = pulumi.Output.from_input(settings.regime.value)
        self.remote_write_url = None
        self.onboarding = waiting_message(settings.cluster, settings.hub_stack)
        pulumi.log.warn(self.onboarding, resource=self)
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        """The stack outputs (docs/design.md "Stack outputs"): no remoteWriteUrl while waiting."""
        outputs = {
            "cluster": self.cluster,
            "regime": self.regime,
            "hubStack": self.hub_stack,
            REQUEST_OUTPUT: self.identity.certificate_request,
            ONBOARDING: self.onboarding,
        }
        if self.remote_write_url is not None:
            outputs["remoteWriteUrl"] = self.remote_write_url
        return outputs
