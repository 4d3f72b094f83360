"""HubStack in the offline preview: what the example hubs and a 150-edge hub declare, and how it is wired."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from components import charts
from components import front_door
from components.front_door_config import CONFIG_FILE, TENANTS_FILE, TRUST_BUNDLE_FILE, fingerprint
from components.hub import ALERTMANAGER_SECRET, FLEET_RULES_CONFIG, GRAFANA_ADMIN_SECRET, TYPE, epoch_seconds
from components.hub_plan import HubPlan
from components.meta_rules import CERTIFICATE_GROUP, CERTIFICATE_METRIC, FLEET_GROUP, TENANT_GROUP, fleet_group
from components.pki import SERVER_SECRET
from components.values import hub_front_door
from components.settings import HubSettings
from labkit.scaled_hub import edge_requests, scaled_hub
from review import engine
from review.engine import SECRET
from review.fleet_review import preview_fleet
from tests import fixture_fleet

RELEASE = "kubernetes:helm.sh/v3:Release"
DESIGN_OUTPUTS = {
    "regime", "region", "edges", "remoteWriteUrl", "otlpEndpoint", "lokiPushUrl",
    "caCert", "edgeCertificates", "tempoBucket", "lokiBucket",
}
PROMETHEUS_TIER = {"kube-prometheus-stack", "tempo", "loki", "grafana", "external-dns"}
MIMIR_TIER = {
    "kube-prometheus-stack", "mimir-distributed", "tempo-distributed", "strimzi-kafka-operator", "loki", "grafana",
    "external-dns",
}
PINNED = {c.name: c for c in (
    charts.KUBE_PROMETHEUS_STACK, charts.MIMIR_DISTRIBUTED, charts.TEMPO, charts.TEMPO_DISTRIBUTED,
    charts.LOKI, charts.GRAFANA, charts.EXTERNAL_DNS, charts.STRIMZI_KAFKA_OPERATOR,
)}
STRIMZI = "kubernetes:kafka.strimzi.io/v1:"


@pytest.fixture(scope="module")
def hub(fleet: dict[str, engine.PreviewResult]) -> engine.PreviewResult:
    return fleet["hub"]


@pytest.fixture(scope="module")
def large() -> engine.PreviewResult:
    """A hub with 150 edges: above the Prometheus tier's 100."""
    stack = scaled_hub(150, root=fixture_fleet.STACKS_DIR)
    return engine.preview(stack, edge_requests(stack))


def _releases(result: engine.PreviewResult) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["chart"]: r["inputs"] for r in result.resources if r["type"] == RELEASE}


def _named(result: engine.PreviewResult, type_: str) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["metadata"]["name"]: r for r in result.resources if r["type"] == type_}


def _settings(result: engine.PreviewResult) -> HubSettings:
    assert isinstance(result.config.settings, HubSettings)
    return result.config.settings


def test_outputs_are_exactly_the_design_contract(hub: engine.PreviewResult) -> None:
    assert set(hub.outputs) == DESIGN_OUTPUTS
    assert hub.secret_outputs == frozenset(), "a hub exports no secret"
    assert set(hub.outputs["edgeCertificates"]) == {"edge-eu", "edge-eu-north"}
    assert hub.outputs["remoteWriteUrl"] == "https://metrics.obs.eu.example.com/api/v1/push"
    assert hub.outputs["caCert"].startswith("-----BEGIN CERTIFICATE-----")
    buckets = {r["outputs"]["bucket"] for r in hub.resources if r["type"] == "aws:s3/bucket:Bucket"}
    assert {hub.outputs["tempoBucket"], hub.outputs["lokiBucket"]} <= buckets
    assert hub.outputs["tempoBucket"] != hub.outputs["lokiBucket"]


def test_the_hub_reads_each_edges_request_from_its_stack(hub: engine.PreviewResult) -> None:
    references = {r["inputs"]["name"]: r for r in hub.resources if r["type"] == "pulumi:pulumi:StackReference"}
    assert sorted(references) == ["acme/obsfleet/edge-eu", "acme/obsfleet/edge-eu-north"]
    component = next(r for r in hub.resources if r["type"] == TYPE)
    assert all(r["parent"] == component["urn"] for r in references.values())


def test_every_resource_hangs_under_the_hub_component(hub: engine.PreviewResult) -> None:
    by_urn = {r["urn"]: r for r in hub.resources}
    [component] = [r for r in hub.resources if r["type"] == TYPE]
    for resource in hub.resources:
        if resource["type"].startswith("pulumi:") or "ResidencyBoundary" in resource["urn"] or resource is component:
            continue
        parent = resource.get("parent")
        while parent and parent != component["urn"]:
            parent = by_urn[parent].get("parent")
        assert parent == component["urn"], resource["urn"]
        assert resource["urn"].rsplit("::", 1)[1].startswith("hub-eu-"), resource["urn"]


@pytest.mark.parametrize(
    ("stack", "tier"), [("hub", MIMIR_TIER), ("hub-us", PROMETHEUS_TIER), ("hub-ap", PROMETHEUS_TIER)]
)
def test_example_hubs_pick_their_tier_with_pinned_charts(
    fleet: dict[str, engine.PreviewResult], stack: str, tier: set[str]
) -> None:
    # Two edges share the EU hub: Mimir, a tenant per edge certificate; one edge: a Prometheus.
    releases = _releases(fleet[stack])
    assert set(releases) == tier
    for name, release in releases.items():
        chart = PINNED[name]
        assert (release["version"], release["repositoryOpts"]["repo"]) == (chart.version, chart.repo)
        assert release["namespace"] == "observability"


def test_receiver_release_has_ooo_and_the_fleet_rules(fleet: dict[str, engine.PreviewResult]) -> None:
    hub_us = fleet["hub-us"]
    values = _releases(hub_us)["kube-prometheus-stack"]["values"]
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["enableRemoteWriteReceiver"] is True
    assert "web" not in spec, "plain HTTP behind the front door"
    edge = _settings(hub_us).edges[0]
    assert spec["tsdb"]["outOfOrderTimeWindow"] == f"{round(edge.buffer_hours * 60)}m", "the edge's bufferHours"
    assert spec["retention"] == f"{_settings(hub_us).retention.metrics}d"
    groups = {g["name"]: g for g in values["additionalPrometheusRulesMap"]["obsfleet-meta"]["groups"]}
    silent = [r["expr"] for r in groups[FLEET_GROUP]["rules"] if r.get("alert") == "ObsfleetEdgeSilent"]
    assert silent == [f'absent(up{{cluster="{edge.name}"}})']
    certificates = {r["labels"]["certificate"] for r in groups[CERTIFICATE_GROUP]["rules"] if r.get("record") == CERTIFICATE_METRIC}
    assert certificates == {"ca-1", "server", edge.name}


def test_mimir_hub_judges_silence_per_tenant(hub: engine.PreviewResult) -> None:
    values = _releases(hub)["kube-prometheus-stack"]["values"]
    groups = {g["name"]: g for g in values["additionalPrometheusRulesMap"]["obsfleet-meta"]["groups"]}
    assert FLEET_GROUP not in groups, "the fleet group runs in Mimir's ruler"
    silent = {r["labels"]["cluster"]: r["expr"] for r in groups[TENANT_GROUP]["rules"]}
    assert set(silent) == {"edge-eu", "edge-eu-north"}
    assert all(f'user="{edge}"' in expr for edge, expr in silent.items())


def test_mimir_hub_deploys_the_per_tenant_fleet_rules_promtool_runs(hub: engine.PreviewResult) -> None:
    """The ruler's federated group is, but for `source_tenants`, the file tests/components/rules/
    fleet-mimir.test.yml tries against a forger, over the same edges."""
    [config_map] = [r for r in hub.resources if r["type"] == "kubernetes:core/v1:ConfigMap" and r["inputs"]["metadata"]["name"] == FLEET_RULES_CONFIG]
    [group] = yaml.safe_load(config_map["inputs"]["data"]["fleet.yaml"])["groups"]
    edges = group.pop("source_tenants")
    assert edges == ["edge-eu", "edge-eu-north"], "the edges the promtool cases are written for"
    assert group == fleet_group(edges, by_tenant=True)


def test_certificate_rules_carry_the_issued_expiry(hub: engine.PreviewResult) -> None:
    values = _releases(hub)["kube-prometheus-stack"]["values"]
    groups = {g["name"]: g for g in values["additionalPrometheusRulesMap"]["obsfleet-meta"]["groups"]}
    records = {r["labels"]["certificate"]: r["expr"] for r in groups[CERTIFICATE_GROUP]["rules"] if "record" in r}
    [cert] = [r for r in hub.resources if r["urn"].endswith("::hub-eu-pki-edge-edge-eu-1-cert")]
    assert records["edge-eu"] == f"vector({epoch_seconds(cert['outputs']['validityEndTime'])})"


def test_tempo_and_loki_use_their_backends(fleet: dict[str, engine.PreviewResult]) -> None:
    hub = fleet["hub-us"]
    releases = _releases(hub)
    tempo, loki = releases["tempo"]["values"], releases["loki"]["values"]
    assert tempo["tempo"]["storage"]["trace"]["s3"]["bucket"] == hub.outputs["tempoBucket"]
    assert "multitenancy_enabled: true" in tempo["config"].splitlines()
    assert loki["loki"]["storage"]["bucketNames"]["chunks"] == hub.outputs["lokiBucket"]
    assert loki["loki"]["auth_enabled"] is True
    assert loki["loki"]["compactor"]["retention_enabled"] is True
    assert loki["loki"]["limits_config"]["deletion_mode"] == "filter-and-delete"
    roles = {r["urn"].rsplit("::", 1)[1]: r["outputs"]["arn"] for r in hub.resources if r["type"] == "aws:iam/role:Role"}
    assert tempo["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == roles["hub-us-traces-role"]
    # The chart's other protocols are deleted by a values file (the SDK would drop inline nulls).
    [deleted] = releases["tempo"]["valueYamlFiles"]
    jaeger = dict.fromkeys(("grpc", "thrift_binary", "thrift_compact", "thrift_http"))
    assert yaml.safe_load(deleted["text"]) == {
        "tempo": {"receivers": {"jaeger": {"protocols": jaeger}, "otlp": {"protocols": {"grpc": None}}}}
    }
    assert "valueYamlFiles" not in releases["loki"]
    assert loki["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == roles["hub-us-logs-role"]


def test_grafana_lists_a_datasource_per_edge(hub: engine.PreviewResult) -> None:
    sources = _releases(hub)["grafana"]["values"]["datasources"]["datasources.yaml"]["datasources"]
    names = {s["name"] for s in sources}
    assert {"edge-eu traces", "edge-eu logs", "edge-eu-north traces", "edge-eu-north logs", "Fleet metrics"} <= names


def test_secrets_are_kubernetes_secrets_not_values(hub: engine.PreviewResult) -> None:
    secrets = _named(hub, "kubernetes:core/v1:Secret")
    assert {ALERTMANAGER_SECRET, GRAFANA_ADMIN_SECRET, SERVER_SECRET} <= set(secrets)
    for name in (ALERTMANAGER_SECRET, GRAFANA_ADMIN_SECRET):
        assert secrets[name]["inputs"]["stringData"] == SECRET
    releases = json.dumps([r["inputs"] for r in hub.resources if r["type"] in (RELEASE, "kubernetes:core/v1:ConfigMap")])
    assert "offline-review-fake" not in releases, "no secret config value in values or ConfigMaps"
    assert "PRIVATE KEY" not in releases
    values = _releases(hub)["kube-prometheus-stack"]["values"]
    assert values["alertmanager"]["alertmanagerSpec"]["configSecret"] == ALERTMANAGER_SECRET


@pytest.mark.parametrize("stack", ["hub", "hub-us"])
def test_ingest_services_lead_only_to_the_front_door(fleet: dict[str, engine.PreviewResult], stack: str) -> None:
    result = fleet[stack]
    domain = _settings(result).domain
    services = _named(result, "kubernetes:core/v1:Service")
    hosts = {
        s["inputs"]["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"]: (name, s["inputs"]["spec"])
        for name, s in services.items()
    }
    ports = {r.signal: r.port for r in hub_front_door.routes(HubPlan.of(_settings(result)))}
    expected = {f"metrics.{domain}": ports["metrics"], f"otlp.{domain}": ports["traces"], f"logs.{domain}": ports["logs"]}
    assert {h: spec["ports"] for h, (_, spec) in hosts.items()} == {
        h: [{"name": "https", "port": 443, "targetPort": port, "protocol": "TCP"}] for h, port in expected.items()
    }
    assert {name for name, _ in hosts.values()} == {"obsfleet-ingest-metrics", "obsfleet-ingest-otlp", "obsfleet-ingest-logs"}
    assert all(spec["type"] == "LoadBalancer" and spec["selector"] == front_door.LABELS for _, spec in hosts.values())
    [deployment] = [r for r in result.resources if r["type"] == "kubernetes:apps/v1:Deployment"]
    template = deployment["inputs"]["spec"]["template"]
    assert template["metadata"]["labels"].items() >= front_door.LABELS.items()
    assert sorted(p["containerPort"] for p in template["spec"]["containers"][0]["ports"]) == sorted(expected.values())


def test_front_door_admits_exactly_the_issued_edge_certificates(hub: engine.PreviewResult) -> None:
    [config] = [r for r in hub.resources if r["type"] == "kubernetes:core/v1:ConfigMap" and r["inputs"]["metadata"]["name"] == front_door.NAME]
    data = config["inputs"]["data"]
    certs = {
        r["urn"].rsplit("::", 1)[1]: r["outputs"]["certPem"]
        for r in hub.resources
        if r["type"] == "tls:index/locallySignedCert:LocallySignedCert"
    }
    issued = {edge: certs[f"hub-eu-pki-edge-{edge}-1-cert"] for edge in ("edge-eu", "edge-eu-north")}
    assert data[TENANTS_FILE].splitlines() == sorted(f"{fingerprint(pem)} {edge};" for edge, pem in issued.items())
    assert data[TRUST_BUNDLE_FILE] == hub.outputs["caCert"]
    assert "location = /api/v1/push {" in data[CONFIG_FILE] and "location = /api/v1/write {" not in data[CONFIG_FILE]


def test_front_door_is_replicated_and_fences_every_receiver(hub: engine.PreviewResult) -> None:
    [deployment] = [r for r in hub.resources if r["type"] == "kubernetes:apps/v1:Deployment"]
    assert deployment["inputs"]["spec"]["replicas"] == HubPlan.of(_settings(hub)).availability.front_door_replicas >= 2
    [budget] = [r for r in hub.resources if r["type"] == "kubernetes:policy/v1:PodDisruptionBudget"]
    assert budget["inputs"]["spec"]["maxUnavailable"] == 1
    policies = {
        r["inputs"]["metadata"]["name"]: r["inputs"]["spec"]
        for r in hub.resources
        if r["type"] == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    }
    assert set(policies) == {f"obsfleet-fence-{b}" for b in ("prometheus", "tempo", "loki", "mimir")}
    for spec in policies.values():
        assert spec["policyTypes"] == ["Ingress"]
        [rule] = spec["ingress"]
        peers = [p["podSelector"]["matchLabels"] for p in rule["from"]]
        assert front_door.LABELS in peers and spec["podSelector"]["matchLabels"] in peers
        assert "ports" not in rule and all(set(p) == {"podSelector"} for p in rule["from"]), "no namespace- or IP-wide peer"


def test_external_dns_role_trusts_only_its_service_account(hub: engine.PreviewResult) -> None:
    [role] = [r for r in hub.resources if r["urn"].endswith("::hub-eu-external-dns-role")]
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:observability:external-dns" in condition.values()
    values = _releases(hub)["external-dns"]["values"]
    assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == role["outputs"]["arn"]
    assert values["policy"] == "sync" and values["domainFilters"] == ["obs.eu.example.com"]


def test_gcp_hub_uses_workload_identity_for_dns(fleet: dict[str, engine.PreviewResult]) -> None:
    hub_ap = fleet["hub-ap"]
    members = [r["inputs"] for r in hub_ap.resources if r["type"] == "gcp:projects/iAMMember:IAMMember"]
    assert {"project": "acme-obs-ap", "role": "roles/dns.admin"}.items() <= members[0].items()
    assert _releases(hub_ap)["external-dns"]["values"]["provider"] == {"name": "google"}


# --- 150 edges: the Mimir tier ---------------------------------------------------------------------


def test_large_fleet_switches_to_mimir(large: engine.PreviewResult) -> None:
    assert set(_releases(large)) == MIMIR_TIER
    assert large.outputs["remoteWriteUrl"] == "https://metrics.obs.eu.example.com/api/v1/push"
    for name, release in _releases(large).items():
        assert release["version"] == PINNED[name].version


def test_mimir_release_is_sized_and_multi_tenant(large: engine.PreviewResult) -> None:
    # 150 edges x 50K series = 7.5M series at 15 s = 500K samples/s (hub_sizing's model, by hand):
    # ingesters: ceil(7.5M / 1.5M) = 5 per zone x 3 zones, each 100K samples/s x 10 us x 3 = 3 cores;
    # distributors: 500K x 10 us x 3 = 15 cores, at most 2 each -> 8, 1875m each;
    # tenants: 50K x 1.5 = 75K series, 50K / 15 s x 3 = 10K samples/s.
    values = _releases(large)["mimir-distributed"]["values"]
    assert values["ingester"]["replicas"] == 15
    assert values["ingester"]["resources"]["requests"]["cpu"] == "3000m"
    assert values["distributor"]["replicas"] == 8
    assert values["distributor"]["resources"]["requests"]["cpu"] == "1875m"
    assert values["mimir"]["structuredConfig"]["multitenancy_enabled"] is True
    overrides = values["runtimeConfig"]["overrides"]
    assert set(overrides) == {e.name for e in _settings(large).edges} and len(overrides) == 150
    assert overrides["edge-0001"] == {
        "max_global_series_per_user": 75_000,
        "ingestion_rate": 10_000,
        "out_of_order_time_window": "240m",
    }
    bucket = values["mimir"]["structuredConfig"]["common"]["storage"]["s3"]["bucket_name"]
    purposes = {r["inputs"].get("description", "") for r in large.resources if r["type"] == "aws:kms/key:Key"}
    assert any("metrics" in p for p in purposes), "Mimir's bucket is a hardened backend of its own"
    assert bucket not in {large.outputs["tempoBucket"], large.outputs["lokiBucket"]}


def test_large_fleet_rules_run_federated_in_mimirs_ruler(large: engine.PreviewResult) -> None:
    [config_map] = [r for r in large.resources if r["type"] == "kubernetes:core/v1:ConfigMap" and r["inputs"]["metadata"]["name"] == FLEET_RULES_CONFIG]
    [group] = yaml.safe_load(config_map["inputs"]["data"]["fleet.yaml"])["groups"]
    assert group["source_tenants"] == [e.name for e in _settings(large).edges]
    assert not [r for r in group["rules"] if r.get("alert") == "ObsfleetEdgeSilent"], "judged per tenant at the hub"
    kps = _releases(large)["kube-prometheus-stack"]["values"]
    groups = {g["name"]: g for g in kps["additionalPrometheusRulesMap"]["obsfleet-meta"]["groups"]}
    assert FLEET_GROUP not in groups and "obsfleet-hub-mimir" in groups
    assert len(groups[TENANT_GROUP]["rules"]) == 150


def test_large_fleet_metrics_enter_through_the_front_door_to_the_distributors(large: engine.PreviewResult) -> None:
    [config] = [r for r in large.resources if r["type"] == "kubernetes:core/v1:ConfigMap" and r["inputs"]["metadata"]["name"] == front_door.NAME]
    assert "proxy_pass http://mimir-distributor.observability.svc.cluster.local:8080;" in config["inputs"]["data"][CONFIG_FILE]
    assert len(config["inputs"]["data"][TENANTS_FILE].splitlines()) == 150
    sources = _releases(large)["grafana"]["values"]["datasources"]["datasources.yaml"]["datasources"]
    assert sum(1 for s in sources if s["type"] == "prometheus") == 151


def test_during_a_ca_change_over_the_front_door_admits_both_certificates_of_each_edge(stacks_dir: Path) -> None:
    path = stacks_dir / "Pulumi.hub.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["obsfleet:pki"] = {"nextCa": "2"}
    path.write_text(yaml.safe_dump(document))
    hub = {r.stack: r for r in preview_fleet(["hub"], stacks_dir=stacks_dir)}["hub"]
    [config] = [r for r in hub.resources if r["type"] == "kubernetes:core/v1:ConfigMap" and r["inputs"]["metadata"]["name"] == front_door.NAME]
    certs = {
        r["urn"].rsplit("::", 1)[1]: r["outputs"]["certPem"]
        for r in hub.resources
        if r["type"] == "tls:index/locallySignedCert:LocallySignedCert"
    }
    expected = [f"{fingerprint(certs[f'hub-eu-pki-edge-{edge}-{ca}-cert'])} {edge};"
                for edge in ("edge-eu", "edge-eu-north") for ca in ("1", "2")]
    assert config["inputs"]["data"][TENANTS_FILE].splitlines() == sorted(expected)
    assert len(x509.load_pem_x509_certificates(config["inputs"]["data"][TRUST_BUNDLE_FILE].encode())) == 2


# --- the traces' own Kafka (Mimir tier) ----------------------------------------------------------


def _by_name(result: engine.PreviewResult) -> dict[str, dict[str, Any]]:
    return {r["urn"].rsplit("::", 1)[1]: r for r in result.resources}


def _custom(result: engine.PreviewResult) -> dict[str, dict[str, Any]]:
    """The Strimzi custom resources, by kind and name (`KafkaNodePool/broker`)."""
    return {
        f"{r['inputs']['kind']}/{r['inputs']['metadata']['name']}": r
        for r in result.resources
        if r["type"].startswith(STRIMZI)
    }


def test_the_eu_hubs_traces_go_through_a_replicated_kafka_of_their_own(hub: engine.PreviewResult) -> None:
    # 2 edges x 64 KiB/s = 128 KiB/s, kept 24 h, one copy per zone: 10.5 GiB x 1.5 -> 16 GiB a broker.
    resources = _custom(hub)
    assert set(resources) == {"Kafka/traces", "KafkaNodePool/controller", "KafkaNodePool/broker", "KafkaTopic/tempo-traces"}
    broker = resources["KafkaNodePool/broker"]["inputs"]["spec"]
    assert (broker["replicas"], broker["roles"], broker["storage"]["size"]) == (3, ["broker"], "16Gi")
    controller = resources["KafkaNodePool/controller"]["inputs"]["spec"]
    assert (controller["replicas"], controller["roles"]) == (3, ["controller"])
    topic = resources["KafkaTopic/tempo-traces"]["inputs"]["spec"]
    assert (topic["partitions"], topic["replicas"], topic["config"]["min.insync.replicas"]) == (3, 3, 2)
    assert topic["config"]["retention.ms"] == 24 * 3_600_000
    tempo = _releases(hub)["tempo-distributed"]["values"]
    assert tempo["blockBuilder"]["replicas"] == tempo["liveStore"]["replicas"] == topic["partitions"]
    assert tempo["ingest"]["kafka"]["address"] == "traces-kafka-bootstrap.observability.svc.cluster.local:9092"
    assert tempo["ingest"]["kafka"]["topic"] == resources["KafkaTopic/tempo-traces"]["inputs"]["metadata"]["name"]


def test_the_kafka_resources_hang_under_their_component_after_the_operator(hub: engine.PreviewResult) -> None:
    by_name = _by_name(hub)
    component = by_name["hub-eu-traces-kafka"]
    assert component["type"] == "obsfleet:index:TracesKafka"
    assert component["parent"] == by_name["hub-eu"]["urn"]
    operator = by_name["hub-eu-traces-kafka-operator"]
    assert operator["inputs"]["chart"] == "strimzi-kafka-operator" and operator["parent"] == component["urn"]
    assert operator["inputs"]["namespace"] == "observability"
    for resource in _custom(hub).values():
        assert resource["parent"] == component["urn"]
        assert operator["urn"] in resource.get("dependencies", []), resource["urn"]
        assert resource["provider"] == operator["provider"]
        assert "ResidencyBoundary$pulumi:providers:kubernetes::" in resource["provider"], "the boundary's explicit provider"
        assert resource["inputs"]["metadata"]["namespace"] == "observability"
    tempo = by_name["hub-eu-tempo"]
    for kind in ("Kafka/traces", "KafkaTopic/tempo-traces"):
        resource = _custom(hub)[kind]
        assert resource["urn"] in tempo["dependencies"], f"Tempo starts once {kind} is ready"
        assert resource["inputs"]["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"


def test_only_tempos_kafka_clients_pass_the_brokers_network_policy(hub: engine.PreviewResult) -> None:
    kafka = _custom(hub)["Kafka/traces"]["inputs"]["spec"]["kafka"]
    [listener] = kafka["listeners"]
    assert (listener["port"], listener["tls"], listener["type"]) == (9092, False, "internal")
    [peer] = listener["networkPolicyPeers"]
    tempo = _releases(hub)["tempo-distributed"]["values"]
    labelled = {c for c in ("distributor", "blockBuilder", "liveStore") if peer["podSelector"]["matchLabels"].items() <= tempo[c]["podLabels"].items()}
    assert labelled == {"distributor", "blockBuilder", "liveStore"}
    operator = _releases(hub)["strimzi-kafka-operator"]["values"]
    assert operator["generateNetworkPolicy"] is True, "the operator writes the listener's NetworkPolicy"
    mimir_fence = _named(hub, "kubernetes:networking.k8s.io/v1:NetworkPolicy")["obsfleet-fence-mimir"]
    peers = [p["podSelector"]["matchLabels"] for p in mimir_fence["inputs"]["spec"]["ingress"][0]["from"]]
    assert {"app.kubernetes.io/name": "tempo"} not in peers, "Tempo no longer writes to Mimir's Kafka"


def test_the_kafka_spreads_over_zones_and_brokers_replicate_across_them(hub: engine.PreviewResult) -> None:
    resources = _custom(hub)
    kafka = resources["Kafka/traces"]["inputs"]["spec"]["kafka"]
    assert kafka["rack"] == {"topologyKey": "topology.kubernetes.io/zone"}
    assert kafka["config"]["min.insync.replicas"] == 2 and kafka["config"]["default.replication.factor"] == 3
    assert kafka["config"]["auto.create.topics.enable"] is False
    assert kafka["template"]["podDisruptionBudget"] == {"maxUnavailable": 1}
    for pool in ("controller", "broker"):
        pod = resources[f"KafkaNodePool/{pool}"]["inputs"]["spec"]["template"]["pod"]
        zone = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
        assert [c["whenUnsatisfiable"] for c in zone] == ["DoNotSchedule"]
        assert zone[0]["labelSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


def test_a_large_hubs_kafka_grows_with_its_edges(large: engine.PreviewResult) -> None:
    # 150 x 64 KiB/s = 9.4 MiB/s x 24 h = 791 GiB a zone x 1.5 = 1187 GiB > 1 TiB: 2 brokers a zone of
    # 594 GiB; 2 partitions for 9.8 MB/s at 6 MB/s each, at least 3, rounded to 4 (2 per broker).
    resources = _custom(large)
    broker = resources["KafkaNodePool/broker"]["inputs"]["spec"]
    assert (broker["replicas"], broker["storage"]["size"]) == (6, "594Gi")
    assert resources["KafkaNodePool/controller"]["inputs"]["spec"]["replicas"] == 3
    assert resources["KafkaTopic/tempo-traces"]["inputs"]["spec"]["partitions"] == 4
    assert _releases(large)["tempo-distributed"]["values"]["liveStore"]["replicas"] == 4


def test_an_external_traces_kafka_replaces_the_hubs_own(stacks_dir: Path) -> None:
    path = stacks_dir / "Pulumi.hub.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["obsfleet:scale"] = {"tracesKafka": {"address": "kafka.obs.eu.example.com:9092", "partitions": 6}}
    path.write_text(yaml.safe_dump(document))
    result = {r.stack: r for r in preview_fleet(["hub"], stacks_dir=stacks_dir)}["hub"]
    assert "strimzi-kafka-operator" not in _releases(result) and _custom(result) == {}
    assert _releases(result)["tempo-distributed"]["values"]["ingest"]["kafka"]["address"] == "kafka.obs.eu.example.com:9092"
