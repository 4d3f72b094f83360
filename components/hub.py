"""HubStack: the jurisdiction's hub, receiving everything its edges send and watching the fleet.

What it declares (all inside the boundary, through its providers):
- the fleet PKI (CA, ingest server certificate, one client certificate per edge, signed from the
  request the edge's stack exports and read here through a StackReference);
- hardened buckets for traces and logs (and Mimir's blocks in the scale tier);
- Helm releases: kube-prometheus-stack (receiver or meta-monitor, Alertmanager, meta rules),
  mimir-distributed (scale tier), tempo or tempo-distributed, loki, grafana, external-dns;
- in the scale tier, the traces' own replicated Kafka (components/traces_kafka.py: the Strimzi
  operator and its Kafka resources) unless `scale.tracesKafka` names an external one;
- Secrets the charts reference by name: Alertmanager's config (receiver URLs/keys from secret
  config), Grafana's admin password;
- the mTLS front door (components/front_door.py), the only way in for edge data: it maps each
  verified edge certificate to its tenant and forwards write paths only, to receivers that admit
  nobody else (NetworkPolicies);
- one LoadBalancer Service per ingest hostname, TLS passed through to the front door's pods,
  named in DNS by ExternalDNS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Optional

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components import charts, edge_facts, hub_availability
from components.alerting import CONFIG_KEY, alertmanager_config, render
from components.endpoints import IngestEndpoints, ingest_endpoints
from components.meta_rules import Certificate, certificate_group, fleet_group, hub_groups, rules_file, tenant_group
from components.front_door import LABELS as FRONT_DOOR_LABELS
from components.front_door import FrontDoor, FrontDoorArgs
from components.hub_availability import Component
from components.hub_plan import HubPlan
from components.identity import REQUEST_OUTPUT
from components.pki import SERVER_SECRET, EdgeRequest, FleetPki, FleetPkiArgs
from components.regions import Cloud
from components.boundary import ResidencyBoundary
from components.settings import HubSettings
from components.storage import Purpose, TempoS3Backend, TempoS3BackendArgs, gcp_account_id, irsa_trust
from components.traces_kafka import TracesKafka, TracesKafkaArgs
from components.values import hub_front_door, hub_grafana, hub_loki, hub_mimir, hub_prometheus, hub_tempo
from components.values.hub_common import LOKI, MIMIR, TEMPO, service_url
from components.values.hub_external_dns import SERVICE_ACCOUNT as EXTERNAL_DNS_ACCOUNT
from components.values.hub_external_dns import external_dns_values

TYPE = "obsfleet:index:HubStack"

ALERTMANAGER_SECRET = "obsfleet-alertmanager-config"
GRAFANA_ADMIN_SECRET = "obsfleet-grafana-admin"
GRAFANA_ADMIN_USER = "admin"
FLEET_RULES_CONFIG = "obsfleet-fleet-rules"
INGEST_PORT = 443
# AWS Load Balancer Controller: an NLB forwarding TCP to pod IPs, so TLS reaches the pods intact.
# GKE's default LoadBalancer Service is already a passthrough network load balancer.
LOAD_BALANCER_ANNOTATIONS = {
    Cloud.AWS: {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    },
    Cloud.GCP: {},
}
ROUTE53_ZONE_ACTIONS = ["route53:ChangeResourceRecordSets"]
ROUTE53_READ_ACTIONS = ["route53:ListHostedZones", "route53:ListResourceRecordSets", "route53:ListTagsForResource"]


@dataclass(frozen=True)
class HubStackArgs:
    settings: HubSettings
    """Validated hub configuration."""
    boundary: ResidencyBoundary
    """The jurisdiction; its providers reach this component through `opts.providers`."""
    grafana_admin_password: pulumi.Input[str]
    """Secret: the password of Grafana's admin user."""
    receiver_secrets: Mapping[str, pulumi.Input[str]]
    """Secret values the alert receivers name (their `secret` key -> its value, e.g. a webhook URL)."""


def epoch_seconds(rfc3339: str) -> int:
    """Unix seconds of a pulumi-tls RFC 3339 timestamp."""
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())


class HubStack(pulumi.ComponentResource):
    regime: pulumi.Output[str]
    region: pulumi.Output[str]
    remote_write_url: pulumi.Output[str]
    otlp_endpoint: pulumi.Output[str]
    loki_push_url: pulumi.Output[str]
    ca_cert: pulumi.Output[str]
    """The trust bundle (public PEMs of every CA the hub trusts)."""
    edge_certificates: pulumi.Output[dict[str, str]]
    """Edge name -> its certificate (public PEM). The hub exports no secret."""
    tempo_bucket: pulumi.Output[str]
    loki_bucket: pulumi.Output[str]

    def __init__(self, name: str, args: HubStackArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(TYPE, name, None, opts)
        settings = self._settings = args.settings
        plan = self._plan = HubPlan.of(settings)
        self._args = args
        self._name = name
        endpoints = ingest_endpoints(plan)
        ns = settings.kubernetes.namespace

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ns, labels={"data-residency": settings.regime.value}),
            opts=self._child(),
        )
        namespace = self.namespace.metadata.name
        # Each edge's stack: the hub reads its certificate request from it.
        self.edge_stacks = {
            e.name: pulumi.StackReference(
                f"{name}-edge-{e.name}", stack_name=settings.stack_ref(e.stack_name), opts=self._child()
            )
            for e in settings.edges
        }
        self.pki = FleetPki(
            f"{name}-pki",
            FleetPkiArgs(
                regime=settings.regime,
                cluster=settings.cluster,
                hosts=endpoints.hosts,
                requests={
                    e.name: EdgeRequest(settings.stack_ref(e.stack_name), self.edge_stacks[e.name].get_output(REQUEST_OUTPUT))
                    for e in settings.edges
                },
                settings=settings.pki,
                namespace=namespace,
            ),
            opts=self._child(),
        )

        self.traces = self._backend("traces", Purpose.TRACES, settings.retention.traces, TEMPO, args.boundary)
        self.logs = self._backend("logs", Purpose.LOGS, settings.retention.logs, LOKI, args.boundary)

        alertmanager_secret = self._alertmanager_secret(namespace)
        prerequisites: list[pulumi.Resource] = [self.pki, alertmanager_secret]
        edges = [e.name for e in settings.edges]
        if plan.mimir:
            # The fleet group runs in Mimir's ruler, over the edges' tenants; silence per tenant here.
            local_groups = [tenant_group(edges)]
        else:
            local_groups = [fleet_group(edges, by_tenant=False)]
        groups = self._certificate_expiries().apply(
            lambda certs: [
                *local_groups,
                *hub_groups(mimir=plan.mimir),
                certificate_group(certs, settings.pki.early_renewal_days),
            ]
        )
        self.prometheus = charts.release(
            f"{name}-kube-prometheus-stack",
            charts.KUBE_PROMETHEUS_STACK,
            namespace,
            groups.apply(
                lambda rule_groups: hub_prometheus.prometheus_stack_values(plan, rule_groups, ALERTMANAGER_SECRET)
            ),
            parent=self,
            depends_on=prerequisites,
        )

        # Charts below create ServiceMonitors: the CRDs come with kube-prometheus-stack.
        tempo_after: list[pulumi.Resource] = [self.prometheus, self.pki, self.traces]
        if plan.mimir:
            self.metrics = self._backend("metrics", Purpose.METRICS, settings.retention.metrics, MIMIR, args.boundary)
            self.mimir = self._mimir(namespace)
        if plan.traces_kafka is not None:
            self.traces_kafka = TracesKafka(
                f"{name}-traces-kafka",
                TracesKafkaArgs(plan.traces_kafka, ns, settings.kubernetes.storage_class, after=[self.namespace]),
                opts=self._child(),
            )
            tempo_after.append(self.traces_kafka)
        self.tempo = charts.release(
            f"{name}-tempo",
            plan.tempo_chart,
            namespace,
            self.traces.tempo_storage(plan.tempo_chart).apply(
                lambda storage: hub_tempo.tempo_values(plan, storage)
            ),
            parent=self,
            depends_on=tempo_after,
            delete=hub_tempo.deleted_defaults(plan),
        )
        self.loki = charts.release(
            f"{name}-loki",
            charts.LOKI,
            namespace,
            self.logs.loki_storage().apply(
                lambda storage: hub_loki.loki_values(plan, storage)
            ),
            parent=self,
            depends_on=[self.prometheus, self.pki, self.logs],
        )
        self.grafana = self._grafana(namespace, prerequisites)
        self.external_dns = self._external_dns(namespace)
        receivers = [self.prometheus, self.tempo, self.loki, *([self.mimir] if plan.mimir else [])]
        self.front_door = FrontDoor(
            f"{name}-front-door",
            FrontDoorArgs(
                namespace=namespace,
                routes=hub_front_door.routes(plan),
                edge_certificates=self.pki.accepted_certificates,
                trust_bundle=self.pki.trust_bundle,
                server_cert=self.pki.server_cert.cert_pem,
                server_secret=SERVER_SECRET,
                backends=hub_front_door.backends(plan),
                replicas=plan.availability.front_door_replicas,
                spread=plan.availability.spread(Component.FRONT_DOOR),
                pod_labels=hub_availability.component_labels(Component.FRONT_DOOR),
            ),
            # nginx resolves its upstreams' Service names when it starts: the receivers come first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.pki, *receivers]),
        )
        self.ingest_services = self._ingest_services(namespace, endpoints)

        self.regime = pulumi.Output.from_input(settings.regime.value)
        self.region = pulumi.Output.from_input(settings.region)
        self.edges = pulumi.Output.from_input(edge_facts.hub_entries(settings))
        self.remote_write_url = pulumi.Output.from_input(endpoints.remote_write_url)
        self.otlp_endpoint = pulumi.Output.from_input(endpoints.otlp_endpoint)
        self.loki_push_url = pulumi.Output.from_input(endpoints.loki_push_url)
        self.ca_cert = self.pki.trust_bundle
        self.edge_certificates = pulumi.Output.all(**self.pki.edge_certificates)
        self.tempo_bucket = self.traces.bucket
        self.loki_bucket = self.logs.bucket
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        """The stack outputs of docs/design.md, the contract with edges and review tools."""
        return {
            "regime": self.regime,
            "region": self.region,
            "edges": self.edges,
            "remoteWriteUrl": self.remote_write_url,
            "otlpEndpoint": self.otlp_endpoint,
            "lokiPushUrl": self.loki_push_url,
            "caCert": self.ca_cert,
            "edgeCertificates": self.edge_certificates,
            "tempoBucket": self.tempo_bucket,
            "lokiBucket": self.loki_bucket,
        }

    # --- helpers ---------------------------------------------------------------------------------

    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _certificate_expiries(self) -> pulumi.Output[list[Certificate]]:
        """notAfter of every certificate the hub holds: each CA, the server, and the edges'
        certificates in use (public values: no secret involved)."""
        pki = self._settings.pki
        issued: list[tuple[str, str, Any]] = [(f"ca-{ca}", "ca", cert) for ca, (_, cert) in self.pki.cas.items()]
        issued.append(("server", "server", self.pki.server_cert))
        issued += [(edge, "client", certs[pki.edge_issuer]) for edge, certs in self.pki.edge_certs.items()]
        ends = pulumi.Output.all(*[cert.validity_end_time for _, _, cert in issued])
        return ends.apply(
            lambda values: [Certificate(n, role, epoch_seconds(end)) for (n, role, _), end in zip(issued, values)]
        )

    def _backend(self, role: str, purpose: Purpose, days: int, account: str, boundary: ResidencyBoundary) -> TempoS3Backend:
        settings = self._settings
        return TempoS3Backend(
            f"{self._name}-{role}",
            TempoS3BackendArgs(
                boundary=boundary,
                purpose=purpose,
                retention_days=days,
                namespace=settings.kubernetes.namespace,
                service_account=account,
                oidc_provider=settings.oidc_provider,
                project=settings.project,
                replica_region=settings.replica_region,
            ),
            opts=self._child(),
        )

    def _config_map(self, role: str, name: str, namespace: pulumi.Input[str], data: dict[str, Any]) -> k8s.core.v1.ConfigMap:
        return k8s.core.v1.ConfigMap(
            f"{self._name}-{role}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
            data=data,
            opts=self._child(),
        )

    def _secret(
        self, role: str, name: str, namespace: pulumi.Input[str], data: pulumi.Input[dict], type_: str = "Opaque"
    ) -> k8s.core.v1.Secret:
        return k8s.core.v1.Secret(
            f"{self._name}-{role}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
            type=type_,
            string_data=pulumi.Output.secret(data),
            opts=self._child(),
        )

    def _alertmanager_secret(self, namespace: pulumi.Input[str]) -> k8s.core.v1.Secret:
        receivers = self._settings.alerting.receivers
        keys = sorted({r.secret for r in receivers})
        values = pulumi.Output.all(*[self._args.receiver_secrets[k] for k in keys])
        rendered = values.apply(lambda v: {CONFIG_KEY: render(alertmanager_config(receivers, dict(zip(keys, v))))})
        return self._secret("alertmanager-config", ALERTMANAGER_SECRET, namespace, rendered)

    def _mimir(self, namespace: pulumi.Input[str]) -> k8s.helm.v3.Release:
        settings = self._settings
        edges = [e.name for e in settings.edges]
        # A federated group: its queries see every edge tenant at once.
        fleet = {**fleet_group(edges, by_tenant=True), "source_tenants": edges}
        rules = self._config_map("fleet-rules", FLEET_RULES_CONFIG, namespace, {"fleet.yaml": rules_file([fleet])})
        alertmanager = service_url(
            hub_prometheus.alertmanager_service(), settings.kubernetes.namespace, hub_prometheus.ALERTMANAGER_PORT
        )
        store = self.metrics.object_store()
        return charts.release(
            f"{self._name}-mimir",
            charts.MIMIR_DISTRIBUTED,
            namespace,
            store.apply(
                lambda s: hub_mimir.mimir_values(self._plan, s, alertmanager, FLEET_RULES_CONFIG)
            ),
            parent=self,
            depends_on=[self.prometheus, self.pki, self.metrics, rules],
        )

    def _grafana(self, namespace: pulumi.Input[str], prerequisites: list[pulumi.Resource]) -> k8s.helm.v3.Release:
        settings = self._settings
        ns = settings.kubernetes.namespace
        password = pulumi.Output.secret(self._args.grafana_admin_password)
        admin = self._secret(
            "grafana-admin",
            GRAFANA_ADMIN_SECRET,
            namespace,
            password.apply(
                lambda p: {hub_grafana.ADMIN_USER_KEY: GRAFANA_ADMIN_USER, hub_grafana.ADMIN_PASSWORD_KEY: p}
            ),
        )
        if self._plan.mimir:
            metrics = hub_mimir.query_url(ns)
        else:
            metrics = service_url(hub_prometheus.prometheus_service(), ns, hub_prometheus.WEB_PORT)
        urls = hub_grafana.DatasourceUrls(metrics, hub_tempo.query_url(self._plan), hub_loki.gateway_url(ns))
        return charts.release(
            f"{self._name}-grafana",
            charts.GRAFANA,
            namespace,
            hub_grafana.grafana_values(self._plan, urls, GRAFANA_ADMIN_SECRET),
            parent=self,
            depends_on=[admin, *prerequisites],
        )

    def _external_dns(self, namespace: pulumi.Input[str]) -> k8s.helm.v3.Release:
        settings = self._settings
        identity = self._route53_role() if settings.cloud is Cloud.AWS else self._cloud_dns_account()
        return charts.release(
            f"{self._name}-external-dns",
            charts.EXTERNAL_DNS,
            namespace,
            identity.apply(lambda i: external_dns_values(settings, i)),
            parent=self,
            depends_on=[self.namespace],
        )

    def _route53_role(self) -> pulumi.Output[str]:
        """IRSA role for ExternalDNS: record changes in hosted zones, listing to find its zone."""
        settings = self._settings
        oidc = settings.oidc_provider
        assert oidc is not None  # HubSettings requires it on aws
        role = aws.iam.Role(
            f"{self._name}-external-dns-role",
            description=f"ExternalDNS of {settings.cluster} ({settings.domain}), IRSA",
            assume_role_policy=irsa_trust(oidc, settings.kubernetes.namespace, EXTERNAL_DNS_ACCOUNT),
            opts=self._child(),
        )
        aws.iam.RolePolicy(
            f"{self._name}-external-dns-policy",
            role=role.id,
            policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ROUTE53_ZONE_ACTIONS, "Resource": "arn:aws:route53:::hostedzone/*"},
                    {"Effect": "Allow", "Action": ROUTE53_READ_ACTIONS, "Resource": "*"},
                ],
            }),
            opts=self._child(),
        )
        return role.arn

    def _cloud_dns_account(self) -> pulumi.Output[str]:
        """Google service account for ExternalDNS through Workload Identity, DNS admin of the project."""
        settings = self._settings
        account = gcp.serviceaccount.Account(
            f"{self._name}-external-dns",
            account_id=gcp_account_id(f"{settings.cluster}-external-dns"),
            display_name=f"ExternalDNS of {settings.cluster} ({settings.domain})",
            project=settings.project,
            opts=self._child(),
        )
        gcp.serviceaccount.IAMMember(
            f"{self._name}-external-dns-workload-identity",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=(
                f"serviceAccount:{settings.project}.svc.id.goog"
                f"[{settings.kubernetes.namespace}/{EXTERNAL_DNS_ACCOUNT}]"
            ),
            opts=self._child(),
        )
        gcp.projects.IAMMember(
            f"{self._name}-external-dns-dns-admin",
            project=settings.project,
            role="roles/dns.admin",
            member=account.member,
            opts=self._child(),
        )
        return account.email

    def _ingest_services(self, namespace: pulumi.Input[str], endpoints: IngestEndpoints) -> list[k8s.core.v1.Service]:
        """One L4 LoadBalancer per ingest hostname, to the front door's listener for that signal."""
        # Service names keep the hostnames' roles (metrics., otlp., logs.).
        hosts = {"metrics": ("metrics", endpoints.metrics_host), "traces": ("otlp", endpoints.otlp_host), "logs": ("logs", endpoints.logs_host)}
        annotations = LOAD_BALANCER_ANNOTATIONS[self._settings.cloud]
        return [
            k8s.core.v1.Service(
                f"{self._name}-ingest-{hosts[route.signal][0]}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"obsfleet-ingest-{hosts[route.signal][0]}",
                    namespace=namespace,
                    annotations={"external-dns.alpha.kubernetes.io/hostname": hosts[route.signal][1], **annotations},
                ),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type="LoadBalancer",
                    selector=FRONT_DOOR_LABELS,
                    ports=[k8s.core.v1.ServicePortArgs(name="https", port=INGEST_PORT, target_port=route.port, protocol="TCP")],
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.front_door]),
            )
            for route in hub_front_door.routes(self._plan)
        ]
