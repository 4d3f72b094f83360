"""Typed stack configuration: every `obsfleet:` key, validated before any resource is declared.

The same models validate a live `pulumi.Config("obsfleet")` (engine config: scalars arrive as
strings, objects as JSON) and a `Pulumi.<stack>.yaml` read offline, so both paths fail alike.
Errors name the key path and what is allowed: `obsfleet:edges[1].name: duplicate 'edge-eu'`.
"""

from __future__ import annotations

import json
import math
import re
from enum import Enum
from typing import Annotated, Any, Literal, Mapping, Optional, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components.regions import Cloud, Regime, regime_countries
from components.residency import outside_reason

NAMESPACE = "obsfleet"

# RFC 1123 label: cluster names become tenant ids, Kubernetes names and DNS labels.
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_NAME = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# RFC 1123 subdomain (Kubernetes object names such as a StorageClass), at most 253 characters.
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_SUBDOMAIN_MAX = 253
# A stack's short name and the Pulumi organization (or backend user) holding the project's stacks:
# a StackReference needs `<org>/obsfleet/<stack>`, built from `obsfleet:org` alone (stack_ref).
STACK_NAME = r"^[A-Za-z0-9_.-]+$"
ORG_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# A CA's name becomes part of resource names (`<hub>-pki-ca-<name>-cert`).
CA_NAME = r"^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$"
ISO_COUNTRY = r"^[A-Z]{2}$"
PROMETHEUS_DURATION = r"^[0-9]+(ms|s|m|h)$"
GCP_PROJECT = r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$"
OIDC_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$"
HTTPS_URL = r"^https://\S+$"
CONFIG_KEY = r"^[A-Za-z][A-Za-z0-9]*$"
KAFKA_ADDRESS = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?:[0-9]{1,5}$"
HOST_PORT = r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?:[0-9]{1,5}$"

PATTERN_WORDS = {
    DNS_LABEL: "a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit, "
    "at most 63 characters",
    DNS_NAME: "a DNS name of lowercase labels separated by dots, ending in a top-level domain (obs.example.com)",
    DNS_SUBDOMAIN: "a Kubernetes object name: lowercase letters, digits, '-' and '.', starting and ending with "
    "a letter or digit",
    STACK_NAME: "a stack's short name (hub): letters, digits, '_', '.' and '-'; the org is obsfleet:org's, set "
    "once in Pulumi.yaml",
    ORG_NAME: "a Pulumi organization or user name (acme): letters, digits, '_', '.' and '-', no '/'",
    CA_NAME: "a CA name of lowercase letters, digits and '-' (2027), at most 32 characters",
    ISO_COUNTRY: "an ISO 3166-1 alpha-2 country code, two capital letters (DE)",
    PROMETHEUS_DURATION: "a Prometheus duration: a whole number and one unit of ms, s, m or h (5s, 100ms)",
    GCP_PROJECT: "a Google Cloud project id: 6 to 30 lowercase letters, digits and '-', starting with a letter, "
    "not ending with '-'",
    OIDC_ARN: "an IAM OIDC provider ARN, arn:aws:iam::<12-digit account>:oidc-provider/<issuer host and path>",
    HTTPS_URL: "an https:// URL without spaces",
    CONFIG_KEY: "a config key name: a letter, then letters and digits (slackWebhookUrl)",
    KAFKA_ADDRESS: "a Kafka broker host:port, a lowercase host name and a port number (kafka.obs.example.com:9092)",
    HOST_PORT: "host:port (etcd-0.etcd.observability.svc:2379)",
}
"""Each pattern the models use, in words: errors and the JSON Schema say what is expected, not a regex."""

MAX_TRACES_BYTES_PER_SECOND = 384_000_000
"""The most trace ingest the hub's own Kafka is sized for: 64 partitions of 6 MB/s (hub_trace_kafka)."""
# Above this many edges one Prometheus is no longer a comfortable hub, even when chosen explicitly.
MAX_PROMETHEUS_EDGES = 100
# From this many edges the default metrics tier is Mimir: one Prometheus keeps every edge's series
# in one TSDB with no tenants, so an edge could write (and hide) series under another edge's
# `cluster` label. Below it, a single edge has nobody to impersonate.
ISOLATED_TIER_MIN_EDGES = 2


BufferHours = Annotated[float, Field(gt=0, le=72)]  # strict float takes `4` (an int), not `true`
"""Hours of hub outage an edge's WAL covers (and the hub's out-of-order window must accept)."""
DEFAULT_BUFFER_HOURS = 4.0
AgentReplicas = Literal[1, 2]
"""One agent per edge, or an HA pair the hub deduplicates."""


class Role(str, Enum):
    HUB = "hub"
    EDGE = "edge"


class Tier(str, Enum):
    PROMETHEUS = "prometheus"
    MIMIR = "mimir"


class Agent(str, Enum):
    """An edge's metrics agent: the Prometheus agent (kube-prometheus-stack) or VictoriaMetrics vmagent."""

    PROMETHEUS = "prometheus"
    VMAGENT = "vmagent"


def is_dns_subdomain(name: str) -> bool:
    """Whether `name` may name a Kubernetes object (a ServiceAccount, a StorageClass)."""
    return len(name) <= DNS_SUBDOMAIN_MAX and re.match(DNS_SUBDOMAIN, name) is not None


ROLE_DESCRIPTION = "hub (one per jurisdiction: receives and stores) or edge (one per cluster: ships to its hub)"


class ConfigError(ValueError):
    """Invalid stack configuration; `str()` is one line per problem, each naming its key path."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class ResidencySettings(_Model):
    """Overrides of the regime's default countries (docs/design.md "Residency")."""

    allowed_countries: Optional[list[Annotated[str, Field(pattern=ISO_COUNTRY)]]] = Field(
        None, alias="allowedCountries", min_length=1,
        description="ISO country codes that replace the regime's own countries (e.g. [DE, AT]); every "
        "location of the stack must lie in one of them",
    )
    allow_adequacy: bool = Field(
        False, alias="allowAdequacy",
        description="gdpr only: also admit the countries of the EU's adequacy decisions (e.g. GB, CH)",
    )

    @field_validator("allowed_countries")
    @classmethod
    def _iso_codes(cls, codes: Optional[list[str]]) -> Optional[list[str]]:
        if codes is not None:
            regime_countries(Regime.GDPR, codes)  # the catalog's own check of each code
        return codes


class KubernetesSettings(_Model):
    """Which cluster the stack deploys to. The kubeconfig itself is a secret (`obsfleet:kubeconfig`)."""

    context: Optional[Annotated[str, Field(min_length=1)]] = Field(
        None,
        description="kubeconfig context of the target cluster; required unless the secret `kubeconfig` is set "
        "(with neither, the provider would deploy to whatever context is current)",
    )
    namespace: Annotated[str, Field(pattern=DNS_LABEL)] = Field(
        "observability", description="namespace of the stack's releases"
    )
    storage_class: Optional[Annotated[str, Field(pattern=DNS_SUBDOMAIN, max_length=DNS_SUBDOMAIN_MAX)]] = Field(
        None, alias="storageClass",
        description="StorageClass of every volume the charts claim (WAL, TSDB, ingester and Kafka disks): set it "
        "when the cluster has no default StorageClass (EKS 1.30 and later, e.g. `gp3`), or every claim stays "
        "Pending; unset, the cluster default applies",
    )


class EdgeRef(_Model):
    """An edge the hub onboards: it signs the certificate request the edge's stack exports."""

    name: Annotated[str, Field(pattern=DNS_LABEL)] = Field(
        description="the edge's `cluster` (its tenant id and certificate name)"
    )
    stack: Optional[Annotated[str, Field(pattern=STACK_NAME)]] = Field(
        None, description="the edge's stack (short name; default: `name`): the hub reads its certificate request there"
    )
    region: str = Field(description="the edge's `region`, equal to its stack file's")
    series_estimate: Annotated[int, Field(gt=0)] = Field(
        50_000, alias="seriesEstimate", description="the edge's `seriesEstimate`, equal to its stack file's"
    )
    buffer_hours: BufferHours = Field(
        DEFAULT_BUFFER_HOURS, alias="bufferHours",
        description="the edge's `bufferHours`, equal to its stack file's: the hub's out-of-order window "
        "accepts that long a replay",
    )
    agent_replicas: AgentReplicas = Field(
        1, alias="agentReplicas",
        description="the edge's `agentReplicas`, equal to its stack file's: 2 makes the hub deduplicate the pair",
    )

    @property
    def stack_name(self) -> str:
        return self.stack or self.name


class Retention(_Model):
    """Days each signal is kept at the hub (also the bound on GDPR erasure by expiry)."""

    metrics: Annotated[int, Field(gt=0, le=3650)] = Field(
        30, description="days of metrics; at least the longest edge `bufferHours` (the replay window)"
    )
    logs: Annotated[int, Field(gt=0, le=3650)] = Field(30, description="days of logs")
    traces: Annotated[int, Field(gt=0, le=3650)] = Field(14, description="days of traces")


class HaTracker(_Model):
    """Where Mimir's HA tracker keeps the replica it accepts per edge pair (memberlist cannot hold it)."""

    store: Literal["etcd", "consul"] = Field(description="`etcd` or `consul`")
    endpoints: list[Annotated[str, Field(pattern=HOST_PORT)]] = Field(
        min_length=1, description="`host:port` of the store (etcd: every member; consul: its agent)"
    )


class TracesKafka(_Model):
    """The Kafka of the Mimir tier's trace ingest (tempo-distributed writes every span through it)."""

    address: Annotated[str, Field(pattern=KAFKA_ADDRESS)] = Field(
        description="bootstrap broker `host:port` of a replicated Kafka reachable from the hub cluster"
    )
    partitions: Annotated[int, Field(ge=1, le=64)] = Field(
        3, description="partitions of the traces topic; Tempo runs one block-builder and one live-store per partition"
    )


class Scale(_Model):
    """How the hub stores metrics and ingests traces."""

    tier: Optional[Tier] = Field(
        None,
        description="`mimir` (each edge stored under the tenant of its certificate) or `prometheus` (one Prometheus "
        "for at most 100 edges, no tenant isolation); unset: mimir from 2 edges, prometheus for a single edge",
    )
    traces_kafka: Optional[TracesKafka] = Field(
        None, alias="tracesKafka",
        description="Mimir tier only: `address` (host:port) and `partitions` (default 3) of an external Kafka for "
        "tempo-distributed; unset, the hub runs a replicated Kafka of the traces' own (Strimzi)",
    )
    traces_bytes_per_second: Optional[Annotated[int, Field(gt=0, le=MAX_TRACES_BYTES_PER_SECOND)]] = Field(
        None, alias="tracesBytesPerSecond",
        description="Mimir tier, without `tracesKafka`: the spans' uncompressed OTLP bytes per second from all "
        "edges together, which size the hub's traces Kafka (partitions, brokers, disks); unset, 64 KiB/s per edge",
    )
    ha_tracker: Optional[HaTracker] = Field(
        None, alias="haTracker",
        description="mimir tier: `store` (etcd or consul) and `endpoints` of the key-value store Mimir's HA "
        "tracker needs to deduplicate edges with `agentReplicas: 2`",
    )


class OidcProvider(_Model):
    """The EKS cluster's IAM OIDC provider, for IRSA trust of the Tempo/Loki service accounts."""

    arn: Annotated[str, Field(pattern=OIDC_ARN)] = Field(description="ARN of the cluster's IAM OIDC provider")
    url: Annotated[str, Field(pattern=HTTPS_URL)] = Field(description="issuer URL of the cluster's OIDC provider")


class PkiSettings(_Model):
    """The hub's certificates. `ca` names the CA that signs; setting `nextCa` starts a rotation
    (both trusted, edges get certificates from the next one), and `ca: <next>` without `nextCa`
    ends it (docs/deployments.md "Rotating the CA")."""

    ca_validity_days: Annotated[int, Field(gt=0)] = Field(
        3650, alias="caValidityDays", description="days each CA of the hub is valid"
    )
    cert_validity_days: Annotated[int, Field(gt=1)] = Field(
        90, alias="certValidityDays", description="days each server, edge and reader certificate is valid"
    )
    early_renewal_days: Annotated[int, Field(gt=0)] = Field(
        30, alias="earlyRenewalDays",
        description="days before expiry that `pulumi up` renews a certificate (less than certValidityDays)",
    )
    ca: Annotated[str, Field(pattern=CA_NAME)] = Field(
        "1", description="name of the CA that signs (default `1`); naming the next CA ends a rotation, deleting the old one"
    )
    next_ca: Optional[Annotated[str, Field(pattern=CA_NAME)]] = Field(
        None, alias="nextCa",
        description="during a CA rotation: the new CA, trusted beside `ca`, signing the edges' new certificates",
    )

    @model_validator(mode="after")
    def _renewal_inside_validity(self) -> "PkiSettings":
        if self.early_renewal_days >= self.cert_validity_days:
            raise ValueError(
                f"earlyRenewalDays ({self.early_renewal_days}) must be less than certValidityDays "
                f"({self.cert_validity_days})"
            )
        if self.next_ca == self.ca:
            raise ValueError(f"nextCa: '{self.next_ca}' is already the current ca; name the new CA differently")
        return self

    @property
    def trusted_cas(self) -> list[str]:
        """The CAs in the trust bundle: the current one, and the next during a change-over."""
        return [self.ca] + ([self.next_ca] if self.next_ca else [])

    @property
    def edge_issuers(self) -> list[str]:
        """CAs holding a certificate for every edge: both during a change-over, so an edge that has
        not yet picked up its new certificate keeps writing with the current one."""
        return self.trusted_cas

    @property
    def edge_issuer(self) -> str:
        """The CA whose certificate an edge is handed: the next one as soon as there is one."""
        return self.next_ca or self.ca


class Receiver(_Model):
    """An Alertmanager receiver. `secret` names the secret config key holding its URL or routing key."""

    name: Annotated[str, Field(pattern=DNS_LABEL)] = Field(description="the receiver's name in Alertmanager")
    type: Literal["slack", "pagerduty", "webhook"] = Field(description="slack, pagerduty or webhook")
    secret: Annotated[str, Field(pattern=CONFIG_KEY)] = Field(
        description="the secret config key (set with `pulumi config set --secret`) holding the webhook URL or "
        "PagerDuty routing key"
    )
    channel: Optional[str] = Field(None, description="Slack channel; required for slack, only for slack")

    @model_validator(mode="after")
    def _fields_for_type(self) -> "Receiver":
        if (self.type == "slack") != (self.channel is not None):
            raise ValueError("channel: required for a slack receiver, and only for slack")
        return self


class Alerting(_Model):
    """Where the hub's Alertmanager sends alerts."""

    receivers: list[Receiver] = Field(default_factory=list, description="Alertmanager receivers")

    @field_validator("receivers")
    @classmethod
    def _unique_names(cls, receivers: list[Receiver]) -> list[Receiver]:
        _unique([r.name for r in receivers], "receivers", "name")
        return receivers


class QueueOverrides(_Model):
    """Remote-write `queue_config` fields that replace the sizing model's values."""

    capacity: Optional[Annotated[int, Field(gt=0)]] = Field(None, description="samples buffered per shard")
    min_shards: Optional[Annotated[int, Field(gt=0)]] = Field(None, alias="minShards", description="fewest shards")
    max_shards: Optional[Annotated[int, Field(gt=0)]] = Field(None, alias="maxShards", description="most shards")
    max_samples_per_send: Optional[Annotated[int, Field(gt=0)]] = Field(
        None, alias="maxSamplesPerSend", description="samples per remote-write request"
    )
    batch_send_deadline: Optional[Annotated[str, Field(pattern=PROMETHEUS_DURATION)]] = Field(
        None, alias="batchSendDeadline", description="longest wait before a shard sends a partial batch"
    )
    min_backoff: Optional[Annotated[str, Field(pattern=PROMETHEUS_DURATION)]] = Field(
        None, alias="minBackoff", description="first retry delay after a failed send"
    )
    max_backoff: Optional[Annotated[str, Field(pattern=PROMETHEUS_DURATION)]] = Field(
        None, alias="maxBackoff", description="longest retry delay"
    )
    retry_on_rate_limit: Optional[bool] = Field(
        None, alias="retryOnRateLimit", description="retry requests the hub answers with 429"
    )


MeshId = Annotated[int, Field(ge=1, le=255)]


class MeshPeer(_Model):
    """Another cluster of the mesh, reached at its clustermesh-apiserver."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=32)] = Field(
        description="the peer's cluster name (its `obsfleet:cluster`, at most 32 characters)"
    )
    id: MeshId = Field(description="the peer's cluster id in the mesh (its `clusterMesh.id`)")
    address: Annotated[str, Field(pattern=DNS_NAME)] = Field(
        description="DNS name of the peer's clustermesh-apiserver (its internal load balancer)"
    )
    port: Annotated[int, Field(ge=1, le=65535)] = Field(2379, description="the peer's clustermesh-apiserver port")


class ClusterMesh(_Model):
    """Cilium cluster-mesh identity of this cluster and the peers it connects to (ids are unique per
    mesh, 1..255)."""

    id: MeshId = Field(description="cluster id in the mesh, unique per mesh, 1 to 255")
    peers: list[MeshPeer] = Field(
        default_factory=list,
        description="the other clusters of the mesh (`name`, `id`, `address`, optional `port`, default 2379)",
    )

    @model_validator(mode="after")
    def _a_mesh_of_unique_members(self) -> "ClusterMesh":
        if not self.peers:
            raise ValueError(
                "peers: a mesh member needs at least one peer (name, id and address of another cluster's "
                "clustermesh-apiserver)"
            )
        names: set[str] = set()
        for i, peer in enumerate(self.peers):
            if peer.name in names:
                raise ValueError(f"peers[{i}].name: duplicate '{peer.name}'")
            names.add(peer.name)
        ids = {self.id: "this cluster's own id"}
        for i, peer in enumerate(self.peers):
            if peer.id in ids:
                raise ValueError(f"peers[{i}].id: {peer.id} is {ids[peer.id]}; ids are unique across the mesh")
            ids[peer.id] = f"the id of peer '{peer.name}'"
        return self


class _Common(_Model):
    role: Role = Field(description=ROLE_DESCRIPTION)
    org: Annotated[str, Field(pattern=ORG_NAME)] = Field(
        description="Pulumi organization (or backend user) of the project's stacks: set once, in Pulumi.yaml"
    )
    cloud: Cloud = Field(description="aws or gcp")
    region: str = Field(description="the cloud region the stack runs in, inside its regime's countries")
    regime: Regime = Field(description="the residency regime whose countries hold the stack's data: gdpr, ccpa or pdpa")
    cluster: Annotated[str, Field(pattern=DNS_LABEL)] = Field(
        description="the cluster's name: tenant id, `cluster` label and certificate name"
    )
    project: Optional[Annotated[str, Field(pattern=GCP_PROJECT)]] = Field(
        None, description="gcp only, required there: the Google Cloud project id"
    )
    residency: ResidencySettings = Field(
        ResidencySettings(),
        description="`allowedCountries` (replaces the regime's countries), `allowAdequacy` (gdpr: EU adequacy countries)",
    )
    kubernetes: KubernetesSettings = Field(
        KubernetesSettings(),
        description="the target cluster: `context` (or the secret `kubeconfig`), `namespace` (default "
        "`observability`), optional `storageClass` for every volume the charts claim (set it when the cluster "
        "has no default StorageClass, e.g. EKS 1.30 and later)",
    )

    def stack_ref(self, stack: str) -> str:
        """The fully qualified name of stack `stack` of this project, for a StackReference."""
        return f"{self.org}/{NAMESPACE}/{stack}"

    @property
    def countries(self) -> frozenset[str]:
        return regime_countries(self.regime, self.residency.allowed_countries, self.residency.allow_adequacy)

    def _check_location(self, key: str, name: str) -> None:
        reason = outside_reason(self.cloud, name, self.regime, self.countries)
        if reason:
            raise ValueError(f"{key}: {reason}")

    @model_validator(mode="after")
    def _common_checks(self) -> "_Common":
        if self.residency.allow_adequacy and self.regime is not Regime.GDPR:
            raise ValueError("residency.allowAdequacy: only the gdpr regime has adequacy decisions")
        if self.cloud is Cloud.GCP and not self.project:
            raise ValueError("project: required when cloud is gcp (the Google Cloud project id)")
        if self.cloud is Cloud.AWS and self.project:
            raise ValueError("project: only for cloud gcp")
        self._check_location("region", self.region)
        return self


class HubSettings(_Common):
    role: Literal[Role.HUB] = Field(description=ROLE_DESCRIPTION)
    edges: list[EdgeRef] = Field(
        min_length=1,
        description="each edge the hub onboards (it signs the certificate request the edge's stack exports; "
        "`stack` names that stack when it is not `name`): `name`, `region`, optional `stack`, "
        "`seriesEstimate`, `bufferHours` and `agentReplicas`, each equal to the edge's stack file (a difference "
        "is refused)",
    )
    retention: Retention = Field(
        Retention(),
        description="`metrics` / `logs` / `traces` days, 1 to 3650 (default 30 / 30 / 14; metrics at least the "
        "longest edge replay)",
    )
    domain: Annotated[str, Field(pattern=DNS_NAME, max_length=253)] = Field(
        description="DNS zone of the ingest endpoints (`metrics.`, `otlp.`, `logs.`)"
    )
    scale: Scale = Field(
        Scale(),
        description="`tier`: `mimir` (each edge's metrics under the tenant of its certificate) or `prometheus` "
        "(one Prometheus, at most 100 edges, no tenant isolation); default: mimir from 2 edges. Pin it: the default "
        "changes backend when a hub's second edge joins or leaves. `tracesBytesPerSecond` (Mimir tier): the edges' "
        f"span bytes/s, 1 to {MAX_TRACES_BYTES_PER_SECOND}, that size the hub's own replicated traces Kafka (default "
        "64 KiB/s per edge); `tracesKafka` (Mimir tier): `address` (host:port) and `partitions` (1 to 64, default 3) "
        "of an external Kafka instead. "
        "`haTracker` (Mimir tier): `store` (etcd or consul) and `endpoints`, needed by edges with `agentReplicas: 2`",
    )
    replica_region: Optional[str] = Field(
        None, alias="replicaRegion", description="disaster-recovery region for the buckets (inside the boundary)"
    )
    oidc_provider: Optional[OidcProvider] = Field(
        None, alias="oidcProvider",
        description="aws only, required there: `arn` and `url` of the EKS OIDC provider (IRSA for Tempo/Loki/Mimir)",
    )
    pki: PkiSettings = Field(
        PkiSettings(),
        description="`caValidityDays`, `certValidityDays`, `earlyRenewalDays` (days: default 3650, 90, 30; "
        "earlyRenewalDays less than certValidityDays); `ca` (the signing CA's name, default "
        "`1`) and `nextCa` (set during a CA rotation: both trusted, edges get certificates from it)",
    )
    alerting: Alerting = Field(
        Alerting(),
        description="`receivers`: `name`, `type` (slack, pagerduty, webhook), `secret` (config key of its URL or "
        "key), `channel`",
    )

    @field_validator("edges")
    @classmethod
    def _unique_edges(cls, edges: list[EdgeRef]) -> list[EdgeRef]:
        _unique([e.name for e in edges], "edges", "name")
        _unique([e.stack_name for e in edges], "edges", "stack")
        return edges

    @model_validator(mode="after")
    def _hub_checks(self) -> "HubSettings":
        for i, edge in enumerate(self.edges):
            self._check_location(f"edges[{i}].region", edge.region)
        if self.replica_region is not None:
            self._check_location("replicaRegion", self.replica_region)
            if self.replica_region == self.region:
                raise ValueError(f"replicaRegion: '{self.replica_region}' is the hub's own region")
        if self.tier is Tier.PROMETHEUS and self.scale.traces_kafka is not None:
            raise ValueError("scale.tracesKafka: only used in the Mimir tier (the Prometheus tier's Tempo has no Kafka)")
        if self.scale.traces_bytes_per_second is not None:
            if self.tier is Tier.PROMETHEUS:
                raise ValueError(
                    "scale.tracesBytesPerSecond: only used in the Mimir tier (it sizes the hub's traces Kafka; "
                    "the Prometheus tier's Tempo has no Kafka)"
                )
            if self.scale.traces_kafka is not None:
                raise ValueError(
                    "scale.tracesBytesPerSecond: sizes the hub's own traces Kafka, which scale.tracesKafka replaces; "
                    "size the external Kafka where it runs and drop one of the two keys"
                )
        if self.scale.tier is Tier.PROMETHEUS and len(self.edges) > MAX_PROMETHEUS_EDGES:
            raise ValueError(
                f"scale.tier: 'prometheus' cannot serve {len(self.edges)} edges "
                f"(at most {MAX_PROMETHEUS_EDGES}); use 'mimir' or leave it unset"
            )
        longest = max(range(len(self.edges)), key=lambda i: self.edges[i].buffer_hours)
        replay = self.edges[longest].buffer_hours
        if self.retention.metrics * 24 < replay:
            raise ValueError(
                f"retention.metrics: {self.retention.metrics} days ({self.retention.metrics * 24} h) is shorter than "
                f"the {replay:g} h replay window of edges[{longest}].bufferHours; keep metrics at least "
                f"{math.ceil(replay / 24)} days"
            )
        for i, edge in enumerate(self.edges):
            if edge.agent_replicas > 1:
                self._check_pair(i)
        for i, receiver in enumerate(self.alerting.receivers):
            if receiver.secret in HUB_KEYS:
                raise ValueError(
                    f"alerting.receivers[{i}].secret: '{receiver.secret}' is a config key of its own; "
                    "name another key to hold the receiver's URL or routing key"
                )
        if self.cloud is Cloud.AWS and self.oidc_provider is None:
            raise ValueError("oidcProvider: required on aws (arn and url of the EKS cluster's OIDC provider, for IRSA)")
        if self.cloud is Cloud.GCP and self.oidc_provider is not None:
            raise ValueError("oidcProvider: only for cloud aws (gcp uses Workload Identity)")
        return self

    def _check_pair(self, i: int) -> None:
        """An edge HA pair needs a hub that deduplicates it: Mimir's HA tracker, with its store."""
        key = f"edges[{i}].agentReplicas"
        if self.tier is Tier.PROMETHEUS:
            raise ValueError(
                f"{key}: 2 needs the mimir tier: the Prometheus tier's one receiver cannot deduplicate an agent "
                "pair (both copies would be stored as conflicting samples); set scale.tier: mimir, or 1"
            )
        if self.scale.ha_tracker is None:
            raise ValueError(
                f"{key}: 2 needs scale.haTracker: Mimir's HA tracker keeps the accepted replica in etcd or consul "
                "(memberlist is not supported for it)"
            )

    @property
    def tier(self) -> Tier:
        """The tier asked for; else Mimir (a tenant per edge certificate) once edges share the hub."""
        if self.scale.tier is not None:
            return self.scale.tier
        return Tier.MIMIR if len(self.edges) >= ISOLATED_TIER_MIN_EDGES else Tier.PROMETHEUS

    @property
    def metrics_isolated(self) -> bool:
        """Whether no edge can write metrics as another: false for one Prometheus shared by edges."""
        return self.tier is Tier.MIMIR or len(self.edges) < ISOLATED_TIER_MIN_EDGES


class EdgeSettings(_Common):
    role: Literal[Role.EDGE] = Field(description=ROLE_DESCRIPTION)
    hub_stack: Annotated[str, Field(pattern=STACK_NAME)] = Field(
        alias="hubStack", description="the hub's stack, short name (`hub`): `<org>/obsfleet/<hubStack>`"
    )
    series_estimate: Annotated[int, Field(gt=0)] = Field(
        50_000, alias="seriesEstimate", description="active series the edge ships (sizes the agent and the hub)"
    )
    scrape_interval_seconds: Annotated[int, Field(ge=5, le=300)] = Field(
        30, alias="scrapeIntervalSeconds", description="scrape interval in seconds, 5 to 300"
    )
    buffer_hours: BufferHours = Field(
        DEFAULT_BUFFER_HOURS, alias="bufferHours",
        description="hours of hub outage the WAL covers and replays (default 4, at most 72)",
    )
    hub_rtt_ms: Annotated[int, Field(ge=1, le=2000)] = Field(
        50, alias="hubRttMs",
        description="expected round trip to the hub in ms (default 50, 1 to 2000): larger remote-write batches "
        "for a longer RTT, shards for the RTT-bound throughput",
    )
    agent: Agent = Field(
        Agent.PROMETHEUS,
        description="the metrics agent that scrapes the cluster and ships to the hub: `prometheus` (the Prometheus "
        "agent of kube-prometheus-stack, default) or `vmagent` (VictoriaMetrics vmagent, victoria-metrics-agent "
        "chart; kube-prometheus-stack keeps only its exporters)",
    )
    queue: QueueOverrides = Field(
        QueueOverrides(),
        description="remote-write `queue_config` overrides (agent `prometheus` only): `capacity`, `minShards`, "
        "`maxShards`, `maxSamplesPerSend` (positive integers), `batchSendDeadline`, `minBackoff`, `maxBackoff` "
        "(Prometheus durations: `5s`, `100ms`), `retryOnRateLimit` (true or false)",
    )
    agent_replicas: AgentReplicas = Field(
        1, alias="agentReplicas",
        description="1, or 2 for an HA pair of agents on separate nodes, deduplicated at the hub (agent "
        "`prometheus`; mimir tier with scale.haTracker; equal to the hub's edges entry)",
    )
    cluster_mesh: Optional[ClusterMesh] = Field(
        None, alias="clusterMesh",
        description="Cilium cluster-mesh `id` (1 to 255, unique in the mesh) and `peers`: each peer's `name` (its "
        "`cluster`), `id`, `address` (DNS name of its clustermesh-apiserver) and `port` (default 2379). "
        "Installs the full Cilium chart into `kube-system`: the stack takes "
        "over (and then owns) the cluster's CNI. Use it only on a cluster created without a CNI, or whose CNI "
        "you mean to replace; it collides with a Cilium installed some other way, and on EKS (aws-node) or GKE "
        "it needs cluster preparation. The mesh's clusters share one Cilium CA: create the same `cilium-ca` "
        "Secret in each cluster's kube-system first",
    )

    @model_validator(mode="after")
    def _peers_are_other_clusters(self) -> "EdgeSettings":
        for i, peer in enumerate(self.cluster_mesh.peers if self.cluster_mesh else []):
            if peer.name == self.cluster:
                raise ValueError(f"clusterMesh.peers[{i}].name: '{peer.name}' is this cluster; peers are the others")
        return self

    @model_validator(mode="after")
    def _prometheus_agent_options(self) -> "EdgeSettings":
        if self.agent is not Agent.PROMETHEUS and self.queue.model_dump(exclude_none=True):
            raise ValueError(
                f"queue: Prometheus remote-write queue_config, not used by agent '{self.agent.value}' "
                "(vmagent's queues and disk buffer are sized from seriesEstimate and bufferHours)"
            )
        if self.agent is not Agent.PROMETHEUS and self.agent_replicas > 1:
            raise ValueError(
                f"agentReplicas: an HA pair runs the Prometheus agent (its replica label is what the hub "
                f"deduplicates); agent '{self.agent.value}' runs one"
            )
        return self


Settings = Union[HubSettings, EdgeSettings]
HUB_KEYS = frozenset(f.alias or n for n, f in HubSettings.model_fields.items())

# Keys whose value is a plain string: the engine passes them verbatim, never JSON-decoded
# (a cluster named `1234` or `true` stays a string).
_STRING_KEYS = {"role", "org", "cloud", "region", "regime", "cluster", "project", "domain", "hubStack", "replicaRegion", "agent"}
# Keys every stack shares, set once in Pulumi.yaml's project config block.
PROJECT_KEYS = {"org"}
# Secret keys are read by the components with `require_secret`, never through these models.
KUBECONFIG = "kubeconfig"
GRAFANA_ADMIN_PASSWORD = "grafanaAdminPassword"
SECRETS = {
    KUBECONFIG: ("both", "optional kubeconfig of the target cluster (its current context), instead of "
                 "`kubernetes.context`"),
    GRAFANA_ADMIN_PASSWORD: ("hub", "password of Grafana's admin user"),
}
"""Secret keys of their own (role, meaning); each receiver's `secret` names another."""
SECRET_KEYS = frozenset(SECRETS)


def _unique(names: list[str], key: str, field: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise ValueError(f"[{i}].{field}: duplicate '{name}'")
        seen.add(name)


def parse(values: Mapping[str, Any], *, secret_keys: frozenset[str] = frozenset()) -> Settings:
    """Validate `obsfleet:` config (keys without the namespace) into hub or edge settings.

    `secret_keys` are keys held as secrets (receiver URLs, passwords): they are not part of the
    models; components read them with `require_secret`. A secret key given in plain text fails.
    """
    plain = plaintext_secrets(values, secret_keys)
    if plain:
        raise ConfigError("\n".join(
            f"{NAMESPACE}:{key}: a secret in plain text; remove it from the stack file and run "
            f"`pulumi config set --secret {NAMESPACE}:{key}`" for key in plain
        ))
    data = {k: v for k, v in values.items() if k not in secret_keys}
    role = data.get("role")
    model: type[_Common]
    if role == Role.HUB.value:
        model = HubSettings
    elif role == Role.EDGE.value:
        model = EdgeSettings
    else:
        problem = "required key is missing" if role is None else f"{role!r} is not allowed"
        raise ConfigError(f"{NAMESPACE}:role: {problem} (allowed: edge, hub)")
    data = {k: _enum_value(k, v) for k, v in data.items()}
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_describe(err, model)) from None


def plaintext_secrets(values: Mapping[str, Any], secret_keys: frozenset[str]) -> list[str]:
    """Keys that must be secrets (SECRET_KEYS, each receiver's `secret`) but are given in plain text."""
    alerting = values.get("alerting")
    receivers = alerting.get("receivers") if isinstance(alerting, Mapping) else None
    named = {r.get("secret") for r in receivers if isinstance(r, Mapping)} if isinstance(receivers, list) else set()
    # A receiver naming a modelled key is the model's error to report, not a secret.
    secret = SECRET_KEYS | {name for name in named if isinstance(name, str) and name not in HUB_KEYS}
    return sorted(key for key in values if key in secret and key not in secret_keys)



ORG_HINT = " (set it once, in the config block of Pulumi.yaml)"
_ENUMS: dict[str, type[Enum]] = {e.__name__: e for e in (Role, Cloud, Regime, Tier, Agent)}


def _enum_value(key: str, value: Any) -> Any:
    # Strict mode wants enum members; config gives strings. Convert only the known enum keys so a
    # wrong value still fails with the list of allowed ones.
    enums = {"role": Role, "cloud": Cloud, "regime": Regime, "agent": Agent}
    if key in enums and isinstance(value, str) and value in {m.value for m in enums[key]}:
        return enums[key](value)
    if key == "scale" and isinstance(value, dict) and value.get("tier") in {t.value for t in Tier}:
        return {**value, "tier": Tier(value["tier"])}
    return value


def _describe(err: ValidationError, model: type[BaseModel]) -> str:
    lines = []
    for e in err.errors():
        path = _path(e["loc"])
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            message = f"unknown key (allowed: {', '.join(_keys_at(model, e['loc'][:-1]))})"
        elif e["type"] == "missing":
            message = "required key is missing" + (ORG_HINT if path == "org" else "")
        elif e["type"] == "model_type":  # pydantic names the Python class; the user wrote YAML
            message = f"{e['input']!r}: should be a mapping of keys"
        elif e["type"] == "is_instance_of" and e.get("ctx", {}).get("class") in _ENUMS:
            allowed = ", ".join(sorted(m.value for m in _ENUMS[e["ctx"]["class"]]))
            message = f"{e['input']!r} is not allowed (allowed: {allowed})"
        elif e["type"] == "string_pattern_mismatch":
            pattern = e["ctx"]["pattern"]
            message = f"{e['input']!r}: must be {PATTERN_WORDS.get(pattern, f'text matching {pattern}')}"
        elif e["type"] == "literal_error":
            allowed = re.findall(r"'([^']*)'", e["ctx"]["expected"])
            message = f"{e['input']!r} is not allowed (allowed: {', '.join(sorted(allowed))})"
        elif "input" in e and e["type"] not in ("value_error", "assertion_error"):
            message = f"{e['input']!r}: {message}"
        # Model-level validators report their own key path at the front of the message.
        if e["type"] == "value_error" and re.match(r"^[\[\]A-Za-z0-9_.]+: ", message):
            sub, _, message = message.partition(": ")
            path = _join(path, sub)
        lines.append(f"{NAMESPACE}:{path}: {message}" if path else f"{NAMESPACE}: {message}")
    return "\n".join(lines)


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts in the mapping at `loc` (list indexes and validator steps skipped)."""
    current: Optional[type[BaseModel]] = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, int) or str(part).startswith("function-"):
            continue
        field = next((f for name, f in current.model_fields.items() if (f.alias or name) == part), None)
        current = _model_in(field.annotation) if field else None
    return sorted(f.alias or name for name, f in current.model_fields.items()) if current else []


def _model_in(annotation: Any) -> Optional[type[BaseModel]]:
    """The model a field holds, through Optional, list and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_model_in, get_args(annotation)) if m), None)


def _path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).startswith("function-") or str(part) in ("HubSettings", "EdgeSettings"):
            continue
        else:
            path = _join(path, str(part))
    return path


def _join(path: str, sub: str) -> str:
    if not path:
        return sub
    return path + sub if sub.startswith("[") else f"{path}.{sub}"


def from_engine(raw: Mapping[str, str], secret_keys: frozenset[str] = frozenset()) -> Settings:
    """Settings from engine config (`project:key` -> string, objects as JSON).

    Beyond the models: a key whose namespace is one edit away from `obsfleet` fails (it would be
    ignored), and so does a stack with no target cluster (no `kubernetes.context` and no secret
    `kubeconfig`: the provider would deploy to whatever kubectl context is current).
    """
    misspelled = [
        f"{key}: unknown namespace '{key.split(':', 1)[0]}': did you mean {NAMESPACE}:{key.split(':', 1)[1]}?"
        for key in raw
        if ":" in key and one_edit_apart(key.split(":", 1)[0], NAMESPACE)
    ]
    if misspelled:
        raise ConfigError("\n".join(sorted(misspelled)))
    values: dict[str, Any] = {}
    prefix = f"{NAMESPACE}:"
    for full_key, text in raw.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix):]
        values[key] = text if key in _STRING_KEYS else _decode(text)
    secrets = frozenset(k[len(prefix):] for k in secret_keys if k.startswith(prefix))
    settings = parse(values, secret_keys=secrets)
    if settings.kubernetes.context is None and KUBECONFIG not in secrets:
        raise ConfigError(
            f"{NAMESPACE}:kubernetes.context: no target cluster: set the kubeconfig context of the cluster "
            f"to deploy to, or a kubeconfig with `pulumi config set --secret {NAMESPACE}:{KUBECONFIG}`"
        )
    return settings


def one_edit_apart(word: str, target: str) -> bool:
    """True when `word` differs from `target` by one insertion, deletion, substitution or swap of
    neighbours (case-insensitive, so `Obsfleet` counts)."""
    a, b = word.lower(), target.lower()
    if word == target:
        return False
    if a == b:
        return True
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    short, long = sorted((a, b), key=len)
    return len(long) - len(short) == 1 and any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def load() -> Settings:
    """Settings of the running stack, from the engine's config."""
    from pulumi.runtime import config

    # The language host sets config either in the runtime map or in PULUMI_CONFIG; read both.
    raw = {**config.get_config_env(), **config.CONFIG.get()}
    secret = frozenset(config.get_config_secret_keys_env()) | {k for k in raw if config.is_config_secret(k)}
    try:
        return from_engine(raw, secret)
    except ConfigError as err:
        # RunError: the engine shows the message alone, without a Python traceback.
        import pulumi

        raise pulumi.RunError(str(err)) from None


def required_secrets(settings: Settings) -> list[str]:
    """Secret config keys the program reads with `require_secret` for these settings."""
    if isinstance(settings, EdgeSettings):
        return []
    return [GRAFANA_ADMIN_PASSWORD, *(r.secret for r in settings.alerting.receivers)]
