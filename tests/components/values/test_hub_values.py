"""Hub Helm values, as pure functions: every key exists in its chart, and the values say what the hub needs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

import jsonschema
import pytest
import yaml

from components import hub_sizing
from components.charts import (
    EXTERNAL_DNS,
    GRAFANA,
    KUBE_PROMETHEUS_STACK,
    LOKI,
    MIMIR_DISTRIBUTED,
    STRIMZI_KAFKA_OPERATOR,
    TEMPO,
    TEMPO_DISTRIBUTED,
    Chart,
    deleted_defaults,
)
from components.hub_availability import SCALE_ZONES, Component, component_labels
from components.hub_plan import HubPlan
from components.meta_rules import fleet_group
from components.regions import Cloud
from components.settings import HaTracker, HubSettings, Scale, Tier, TracesKafka
from components.storage import ObjectStore, loki_storage_values, tempo_storage_values
from components.values import hub_grafana, hub_loki, hub_mimir, hub_prometheus, hub_tempo, hub_traces_kafka
from components.values.hub_common import merge
from components.values.hub_external_dns import external_dns_values
from labkit.scaled_hub import scaled_hub
from tests import fixture_fleet
from tests.helm_reference import chart_file, coalesce, reference_values, unknown_keys

ROLE = "arn:aws:iam::123456789012:role/store"
# Maps the charts pass through as they are: documented as `{}`, a commented-out key or a free map
# in values.yaml (Kubernetes objects, the components' own config blocks). What we put inside is
# asserted by the tests below.
FREE_FORM: dict[Chart, list[str]] = {
    KUBE_PROMETHEUS_STACK: [
        "commonLabels",
        "additionalPrometheusRulesMap",
        "alertmanager.alertmanagerSpec.configSecret",  # commented out in values.yaml
        "prometheus.prometheusSpec.externalLabels",
        "prometheus.prometheusSpec.resources",
        "prometheus.prometheusSpec.storageSpec",
        "prometheus.prometheusSpec.podMetadata",
        "alertmanager.alertmanagerSpec.podMetadata",
    ],
    MIMIR_DISTRIBUTED: [
        # commented out in values.yaml (read by each StatefulSet's volumeClaimTemplates)
        "ingester.persistentVolume.storageClass",
        "store_gateway.persistentVolume.storageClass",
        "compactor.persistentVolume.storageClass",
        "serviceAccount.annotations",
        "gateway.podLabels",
        "distributor.podLabels",
        "distributor.resources",
        "ingester.resources",
        "mimir.structuredConfig",
        "runtimeConfig",
    ],
    TEMPO: [
        "persistence.storageClassName",  # commented out in values.yaml
        "serviceAccount.annotations",
        "podLabels",
        "tempo.receivers",
        "tempo.storage.trace",
    ],
    TEMPO_DISTRIBUTED: [
        "serviceAccount.annotations",
        "distributor.podLabels",
        "blockBuilder.podLabels",
        "liveStore.podLabels",
        "storage.trace",
    ],
    LOKI: [
        "serviceAccount.annotations",
        "gateway.podLabels",
        "singleBinary.podLabels",
        "loki.storage.bucketNames",  # commented out in values.yaml
        "loki.rulerConfig",
        "loki.schemaConfig",
        "loki.limits_config",
        "loki.compactor",
        "loki.runtimeConfig",
        "loki.querier",
    ],
    GRAFANA: ["datasources", "podLabels", "podDisruptionBudget"],  # both documented as comments
    EXTERNAL_DNS: ["serviceAccount.annotations"],
}


def _settings(name: str) -> HubSettings:
    settings = fixture_fleet.load(name).settings
    assert isinstance(settings, HubSettings)
    return settings


@pytest.fixture(scope="module")
def hub() -> HubSettings:
    """The EU hub with the Prometheus tier chosen explicitly (its two edges default to Mimir)."""
    return _settings("hub").model_copy(update={"scale": Scale(tier=Tier.PROMETHEUS)})


@pytest.fixture(scope="module")
def hub_ap() -> HubSettings:
    return _settings("hub-ap")


@pytest.fixture(scope="module")
def large() -> HubSettings:
    settings = scaled_hub(150, root=fixture_fleet.STACKS_DIR).settings
    assert isinstance(settings, HubSettings)
    return settings


def _store(settings: HubSettings, account: str) -> ObjectStore:
    identity = ROLE if settings.cloud is Cloud.AWS else f"{account}@acme-obs-ap.iam.gserviceaccount.com"
    return ObjectStore(settings.cloud, f"{account}-bucket", settings.region, account, identity)


def _prometheus(settings: HubSettings) -> dict[str, Any]:
    plan = HubPlan.of(settings)
    groups = [fleet_group([e.name for e in settings.edges], by_tenant=plan.mimir)]
    return hub_prometheus.prometheus_stack_values(plan, groups, "am-config")


def _tempo_chart(settings: HubSettings) -> Chart:
    return HubPlan.of(settings).tempo_chart


def _tempo(settings: HubSettings) -> dict[str, Any]:
    plan = HubPlan.of(settings)
    storage = tempo_storage_values(_store(settings, "tempo"), plan.tempo_chart)
    return hub_tempo.tempo_values(plan, storage)


def _loki(settings: HubSettings) -> dict[str, Any]:
    return hub_loki.loki_values(HubPlan.of(settings), loki_storage_values(_store(settings, "loki")))


def _mimir(settings: HubSettings) -> dict[str, Any]:
    return hub_mimir.mimir_values(HubPlan.of(settings), _store(settings, "mimir"), "http://am:9093", "rules")


URLS = hub_grafana.DatasourceUrls("http://prometheus:9090", "http://tempo:3200", "http://loki-gateway")


def _grafana(settings: HubSettings) -> dict[str, Any]:
    return hub_grafana.grafana_values(HubPlan.of(settings), URLS, "grafana-admin")


def _external_dns(settings: HubSettings) -> dict[str, Any]:
    return external_dns_values(settings, ROLE)


BUILDERS: dict[str, tuple[Callable[[HubSettings], dict[str, Any]], Callable[[HubSettings], Chart]]] = {
    "kube-prometheus-stack": (_prometheus, lambda s: KUBE_PROMETHEUS_STACK),
    "tempo": (_tempo, _tempo_chart),
    "loki": (_loki, lambda s: LOKI),
    "grafana": (_grafana, lambda s: GRAFANA),
    "external-dns": (_external_dns, lambda s: EXTERNAL_DNS),
}


@pytest.mark.parametrize("release", sorted(BUILDERS))
@pytest.mark.parametrize("stack", ["hub", "hub-ap", "large"])
def test_every_key_is_in_the_charts_values(request: pytest.FixtureRequest, release: str, stack: str) -> None:
    settings: HubSettings = request.getfixturevalue(stack.replace("-", "_"))
    build, chart_of = BUILDERS[release]
    chart = chart_of(settings)
    assert unknown_keys(chart, build(settings), FREE_FORM[chart]) == []


def test_mimir_keys_are_in_the_charts_values(large: HubSettings) -> None:
    assert unknown_keys(MIMIR_DISTRIBUTED, _mimir(large), FREE_FORM[MIMIR_DISTRIBUTED]) == []


def test_strimzi_operator_keys_are_in_the_charts_values() -> None:
    assert unknown_keys(STRIMZI_KAFKA_OPERATOR, hub_traces_kafka.operator_values()) == []


@pytest.mark.parametrize(("chart", "build"), [(LOKI, _loki), (EXTERNAL_DNS, _external_dns)])
@pytest.mark.parametrize("stack", ["hub", "hub-ap", "large"])
def test_values_pass_the_charts_schema(request: pytest.FixtureRequest, chart: Chart, build: Callable, stack: str) -> None:
    # Helm validates the coalesced values (chart defaults + ours) against values.schema.json.
    settings = request.getfixturevalue(stack.replace("-", "_"))
    schema = json.loads(chart_file(chart, "values.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(merge(reference_values(chart), build(settings)))


# --- Prometheus tier ------------------------------------------------------------------------------


def test_receiver_is_plain_http_behind_the_front_door(hub: HubSettings) -> None:
    values = _prometheus(hub)["prometheus"]
    spec = values["prometheusSpec"]
    assert spec["enableRemoteWriteReceiver"] is True
    # No TLS on the web port: probes, the config-reloader and the self-scrape reach it as the
    # operator sets them up (the front door terminates the edges' mTLS).
    assert not {"web", "containers", "volumes", "reloadStrategy"} & set(spec)
    assert "serviceMonitor" not in values


def test_receiver_accepts_replayed_backlogs_and_keeps_retention(hub: HubSettings) -> None:
    spec = _prometheus(hub)["prometheus"]["prometheusSpec"]
    sizing = hub_sizing.receiver(hub_sizing.IngestLoad.of(hub.edges), hub.retention.metrics)
    assert spec["tsdb"] == {"outOfOrderTimeWindow": "360m"}, "the longest edge buffer: edge-eu-north, 6 h"
    assert spec["retention"] == "30d"
    assert spec["retentionSize"] == f"{sizing.retention_size_bytes // hub_sizing.GIB}GiB"
    assert spec["resources"] == sizing.resources.helm()
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == f"{sizing.disk_gib}Gi"
    assert spec["externalLabels"] == {"cluster": "hub-eu", "region": "eu-central-1", "regime": "gdpr"}


def test_alertmanager_config_is_an_existing_secret_and_grafana_is_separate(hub: HubSettings) -> None:
    values = _prometheus(hub)
    spec = values["alertmanager"]["alertmanagerSpec"]
    assert (spec["useExistingSecret"], spec["configSecret"]) == (True, "am-config")
    assert values["grafana"] == {"enabled": False}
    assert "config" not in values["alertmanager"]


def test_mimir_tier_prometheus_only_watches_the_hub(large: HubSettings) -> None:
    spec = _prometheus(large)["prometheus"]["prometheusSpec"]
    assert "enableRemoteWriteReceiver" not in spec and "web" not in spec
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "20Gi"


# --- Mimir tier -----------------------------------------------------------------------------------


def test_mimir_is_multi_tenant_on_the_hardened_bucket(large: HubSettings) -> None:
    values = _mimir(large)
    config = values["mimir"]["structuredConfig"]
    assert config["multitenancy_enabled"] is True and config["tenant_federation"] == {"enabled": True}
    assert config["common"]["storage"] == {
        "backend": "s3",
        "s3": {"bucket_name": "mimir-bucket", "endpoint": "s3.eu-central-1.amazonaws.com", "region": "eu-central-1"},
    }
    assert values["serviceAccount"] == {"create": True, "name": "mimir", "annotations": {"eks.amazonaws.com/role-arn": ROLE}}
    assert values["minio"] == {"enabled": False}
    assert config["limits"]["out_of_order_time_window"] == "240m"
    assert config["limits"]["compactor_blocks_retention_period"] == "720h"


def test_mimir_limits_and_replicas_come_from_the_sizing_model(large: HubSettings) -> None:
    values = _mimir(large)
    sizing = hub_sizing.mimir(hub_sizing.IngestLoad.of(large.edges))
    assert values["ingester"]["replicas"] == sizing.ingesters == 15
    assert values["ingester"]["resources"] == sizing.ingester.helm()
    assert values["distributor"]["replicas"] == sizing.distributors
    overrides = values["runtimeConfig"]["overrides"]
    assert set(overrides) == {e.name for e in large.edges}
    limits = hub_sizing.tenant_limits(large.edges[0])
    assert overrides[large.edges[0].name] == {
        "max_global_series_per_user": limits.max_global_series,
        "ingestion_rate": limits.ingestion_rate,
        "out_of_order_time_window": "240m",
    }


def test_mimir_rules_load_into_the_ruler_and_alert_at_the_hub(large: HubSettings) -> None:
    values = _mimir(large)
    assert values["mimir"]["structuredConfig"]["ruler"]["alertmanager_url"] == "http://am:9093"
    assert values["mimir"]["structuredConfig"]["ruler_storage"]["backend"] == "local"
    assert values["ruler"]["extraVolumeMounts"][0]["mountPath"] == f"{hub_mimir.RULES_DIR}/{hub_mimir.RULES_TENANT}"


def test_gateways_serve_queries_only(large: HubSettings, hub: HubSettings) -> None:
    # Pushes go from the front door to the distributors and to Loki; the gateways keep only the
    # body limits the front door matches (components/values/hub_front_door.py).
    for gateway, nginx in ((_mimir(large)["gateway"], "nginx"), (_loki(hub)["gateway"], "nginxConfig")):
        assert not {"extraVolumes", "extraVolumeMounts"} & set(gateway)
        assert "httpSnippet" not in str(gateway[nginx])
    assert _mimir(large)["gateway"]["nginx"] == {"config": {"clientMaxBodySize": hub_mimir.MAX_PUSH_BODY}}
    assert _loki(hub)["gateway"]["nginxConfig"] == {"clientMaxBodySize": hub_loki.MAX_PUSH_BODY}


# --- Tempo, Loki, Grafana, ExternalDNS -------------------------------------------------------------


def _tempo_yaml(values: dict[str, Any]) -> dict[str, Any]:
    """The single chart's tempo.yaml as we write it, without its storage line (a Helm template)."""
    fixed, storage = values["config"].rsplit("storage:\n", 1)
    assert storage == "  {{- toYaml .Values.tempo.storage | nindent 2 }}\n"
    return yaml.safe_load(fixed)


def test_tempo_is_multi_tenant_with_retention(hub: HubSettings) -> None:
    values = _tempo(hub)
    config = _tempo_yaml(values)
    assert config["multitenancy_enabled"] is True
    assert config["compactor"]["compaction"]["block_retention"] == "336h"
    assert config["distributor"]["receivers"] == values["tempo"]["receivers"]
    assert values["tempo"]["storage"]["trace"]["backend"] == "s3"


def test_distributed_tempo_writes_to_the_hubs_own_kafka(large: HubSettings) -> None:
    values = _tempo(large)
    plan = HubPlan.of(large).traces_kafka
    assert plan is not None
    assert _tempo_chart(large) == TEMPO_DISTRIBUTED
    assert values["multitenancyEnabled"] is True
    assert values["ingest"]["kafka"] == {
        "address": "traces-kafka-bootstrap.observability.svc.cluster.local:9092",
        "topic": hub_traces_kafka.TOPIC,
        "auto_create_topic_enabled": False,  # the hub declares the topic (KafkaTopic)
        "auto_create_topic_default_partitions": plan.partitions,
    }
    assert values["backendScheduler"]["config"]["provider"]["compaction"]["compaction"]["block_retention"] == "336h"
    assert values["traces"]["otlp"]["http"] == {"enabled": True}
    assert values["blockBuilder"]["replicas"] == values["liveStore"]["replicas"] == plan.partitions


def test_only_tempos_kafka_clients_carry_the_label_the_brokers_admit(large: HubSettings) -> None:
    values = _tempo(large)
    clients = hub_traces_kafka.CLIENT_LABELS
    for component in ("distributor", "blockBuilder", "liveStore"):
        assert clients.items() <= values[component]["podLabels"].items(), component
    others = [k for k, v in values.items() if isinstance(v, dict) and "podLabels" in v and k not in
              ("distributor", "blockBuilder", "liveStore")]
    assert others == [], "no other Tempo component reaches Kafka"
    assert "podLabels" not in values.get("tempo", {}), "a chart-wide label would admit every Tempo pod"


def test_distributed_tempo_can_write_through_an_external_kafka(large: HubSettings) -> None:
    own = TracesKafka(address="kafka.obs.eu.example.com:9092", partitions=6)
    external = large.model_copy(update={"scale": large.scale.model_copy(update={"traces_kafka": own})})
    values = _tempo(external)
    assert values["ingest"]["kafka"] == {"address": "kafka.obs.eu.example.com:9092", "auto_create_topic_default_partitions": 6}
    assert values["blockBuilder"]["replicas"] == values["liveStore"]["replicas"] == 6, "one consumer per partition"
    assert "podLabels" not in values["blockBuilder"] and hub_traces_kafka.CLIENT_LABELS.keys().isdisjoint(
        values["distributor"]["podLabels"]
    ), "no label for a Kafka the hub does not fence"
    assert HubPlan.of(external).traces_kafka is None, "no Kafka of the hub's own beside an external one"


def test_single_tempo_receives_only_otlp_http(hub: HubSettings) -> None:
    # As Helm coalesces the release: chart defaults, the deleted-defaults file, then our values.
    deleted = yaml.safe_load(deleted_defaults(hub_tempo.deleted_defaults(HubPlan.of(hub))))
    defaults = reference_values(TEMPO)
    receivers = coalesce(defaults, deleted, _tempo(hub))["tempo"]["receivers"]
    # What the chart's Service ports read: no Jaeger protocol, OTLP over HTTP only.
    assert receivers == {"jaeger": {"protocols": {}}, "otlp": {"protocols": {"http": {"endpoint": "0.0.0.0:4318"}}}}
    # What Tempo runs: tempo.yaml names the OTLP/HTTP receiver alone.
    assert _tempo_yaml(_tempo(hub))["distributor"]["receivers"] == {"otlp": receivers["otlp"]}
    # Every deleted path is a default of the pinned chart (a renamed key would leave a receiver open).
    for path in hub_tempo.deleted_defaults(HubPlan.of(hub)):
        node = defaults
        for key in path.split("."):
            assert isinstance(node, dict) and key in node, f"{path} is not in {TEMPO.name} {TEMPO.version}'s values.yaml"
            node = node[key]
    # Without the file, Helm's merge keeps the chart's other protocols.
    kept = coalesce(defaults, _tempo(hub))["tempo"]["receivers"]
    assert set(kept["jaeger"]["protocols"]) == {"grpc", "thrift_binary", "thrift_compact", "thrift_http"}
    assert set(kept["otlp"]["protocols"]) == {"grpc", "http"}


def test_distributed_tempo_enables_no_receiver_but_otlp_http(large: HubSettings) -> None:
    assert hub_tempo.deleted_defaults(HubPlan.of(large)) == ()
    traces = coalesce(reference_values(TEMPO_DISTRIBUTED), _tempo(large))["traces"]

    def enabled(node: Any, path: str) -> list[str]:
        if not isinstance(node, dict):
            return []
        own = [path] if node.get("enabled") is True else []
        return own + [p for key, value in node.items() for p in enabled(value, f"{path}.{key}")]

    assert enabled(traces, "traces") == ["traces.otlp.http"]
    assert traces["kafka"] == {}, "a Kafka receiver config would enable it"


def test_loki_has_auth_per_tenant_retention_and_the_deletion_api(hub: HubSettings, hub_ap: HubSettings) -> None:
    loki = _loki(hub)["loki"]
    assert loki["auth_enabled"] is True
    assert loki["compactor"] == {"retention_enabled": True, "delete_request_store": "s3"}
    assert loki["limits_config"]["deletion_mode"] == "filter-and-delete"
    assert loki["limits_config"]["retention_period"] == "720h"
    assert loki["runtimeConfig"]["overrides"] == {
        "edge-eu": {"retention_period": "720h"},
        "edge-eu-north": {"retention_period": "720h"},
    }
    assert loki["commonConfig"]["replication_factor"] == _loki(hub)["singleBinary"]["replicas"] == 1
    assert _loki(hub_ap)["loki"]["compactor"]["delete_request_store"] == "gcs"
    assert _loki(hub_ap)["loki"]["limits_config"]["retention_period"] == "336h"


def test_loki_chunks_cache_fits_a_small_hub_and_keeps_the_charts_size_at_scale(hub: HubSettings, large: HubSettings) -> None:
    default = reference_values(LOKI)["chunksCache"]["allocatedMemory"]
    assert _loki(hub)["chunksCache"] == {"allocatedMemory": 1024} and default > 1024
    assert _loki(large)["chunksCache"] == {"allocatedMemory": default}


@pytest.mark.parametrize("stack", ["hub", "large"])
def test_loki_runs_only_the_monolithic_target(request: pytest.FixtureRequest, stack: str) -> None:
    # The rule of the chart's templates/validate.yaml, over the values Helm coalesces: monolithic
    # replicas and simple-scalable replicas together fail the render (their defaults are 3).
    values = merge(reference_values(LOKI), _loki(request.getfixturevalue(stack)))
    assert values["deploymentMode"] == "Monolithic" and values["singleBinary"]["replicas"] > 0
    assert [values[target]["replicas"] for target in ("read", "write", "backend")] == [0, 0, 0]


def test_grafana_has_a_datasource_per_tenant_and_a_fleet_view(hub: HubSettings) -> None:
    sources = {s["name"]: s for s in _grafana(hub)["datasources"]["datasources.yaml"]["datasources"]}
    for edge in ("edge-eu", "edge-eu-north"):
        for signal in ("traces", "logs"):
            source = sources[f"{edge} {signal}"]
            assert source["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID"
            assert source["secureJsonData"] == {"httpHeaderValue1": edge}
    assert sources["Fleet traces"]["secureJsonData"] == {"httpHeaderValue1": "edge-eu|edge-eu-north"}
    assert sources["Fleet logs"]["secureJsonData"] == {"httpHeaderValue1": "edge-eu|edge-eu-north"}
    # Prometheus tier: one metrics datasource, no tenant header (one Prometheus has no tenants).
    assert [n for n in sources if n.endswith("metrics")] == ["Fleet metrics"]
    metrics = sources["Fleet metrics"]
    assert metrics["isDefault"] is True and metrics["url"] == URLS.metrics
    assert "secureJsonData" not in metrics and "jsonData" not in metrics
    assert len({s["uid"] for s in sources.values()}) == len(sources)


def test_grafana_in_the_mimir_tier_has_metrics_per_tenant(large: HubSettings) -> None:
    values = _grafana(large)
    sources = values["datasources"]["datasources.yaml"]["datasources"]
    metrics = [s for s in sources if s["type"] == "prometheus"]
    assert len(metrics) == len(large.edges) + 1
    assert all(len(s["uid"]) <= hub_grafana.UID_MAX for s in sources)
    assert "extraSecretMounts" not in values


def test_grafana_admin_password_comes_from_a_secret(hub: HubSettings) -> None:
    assert _grafana(hub)["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}


GRAFANA_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
"""What Grafana accepts as a datasource uid (pkg/util: letters, digits, `-`, `_`, at most 40)."""


def _uids(settings: HubSettings) -> dict[str, str]:
    """Datasource name -> uid, asserting the uids are unique and valid for Grafana."""
    sources = _grafana(settings)["datasources"]["datasources.yaml"]["datasources"]
    uids = {s["name"]: s["uid"] for s in sources}
    assert len(set(uids.values())) == len(sources), sorted(uids.values())
    bad = [u for u in uids.values() if not GRAFANA_UID.match(u)]
    assert bad == []
    return uids


def _with_edges(settings: HubSettings, edges: list[dict[str, Any]]) -> HubSettings:
    return settings.model_validate({**settings.model_dump(by_alias=True), "edges": edges})


@pytest.mark.parametrize("stack", [n for n in fixture_fleet.names() if fixture_fleet.load(n).is_hub])
def test_every_fixture_hubs_datasource_uids_are_unique_valid_and_fleet_wide(stack: str) -> None:
    settings = _settings(stack)
    uids = _uids(settings)
    assert {uids["Fleet traces"], uids["Fleet logs"]} == {"fleet-traces", "fleet-logs"}


def test_a_150_edge_hubs_uids_are_unique_and_valid(large: HubSettings) -> None:
    uids = _uids(large)
    assert len(uids) == 3 + 3 * len(large.edges)  # Mimir tier: metrics per tenant too


def test_onboarding_an_edge_changes_no_existing_uid(hub: HubSettings) -> None:
    before = _uids(hub)
    grown = [e.model_dump(by_alias=True) for e in hub.edges] + [{"name": "edge-eu-south", "region": "eu-south-1"}]
    after = _uids(_with_edges(hub, grown))
    assert {name: after[name] for name in before} == before
    assert {after["edge-eu-south traces"], after["edge-eu-south logs"]} == {"traces-edge-eu-south", "logs-edge-eu-south"}


def test_long_edge_names_get_distinct_valid_uids_that_no_short_name_can_take(hub: HubSettings) -> None:
    # 63-character DNS labels sharing a 40-character prefix, and a short name spelled like a hashed uid.
    long = ["e" * 62 + "a", "e" * 62 + "b"]
    hashed = hub_grafana.uid("logs", long[0])
    assert len(hashed) == hub_grafana.UID_MAX and hashed != hub_grafana.uid("logs", long[1])
    lookalike = hashed.removeprefix("logs_").replace("_", "-")
    edges = [{"name": n, "region": "eu-west-1"} for n in [*long, lookalike]]
    uids = _uids(_with_edges(hub, edges))
    assert uids[f"{long[0]} logs"] == hashed


def test_external_dns_syncs_the_hubs_domain(hub: HubSettings, hub_ap: HubSettings) -> None:
    aws = _external_dns(hub)
    assert (aws["policy"], aws["domainFilters"], aws["provider"], aws["txtOwnerId"]) == (
        "sync", ["obs.eu.example.com"], {"name": "aws"}, "hub-eu"
    )
    assert aws["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    google = external_dns_values(hub_ap, "dns@acme-obs-ap.iam.gserviceaccount.com")
    assert google["provider"] == {"name": "google"}
    assert google["extraArgs"] == ["--google-project=acme-obs-ap"]


# --- StorageClass of the volume claims (`kubernetes.storageClass`) ---------------------------------

STORAGE_CLASS = "gp3"
CLASS_KEYS = {"storageClass", "storageClassName"}
# The claims each chart renders with our values (coalesced with its defaults). tempo-distributed
# 3.3.0 claims none by default; its chart-wide class covers any component that turns one on.
CLAIMS: dict[Chart, set[str]] = {
    KUBE_PROMETHEUS_STACK: {"prometheus.prometheusSpec.storageSpec"},
    TEMPO: {"persistence"},
    TEMPO_DISTRIBUTED: set(),
    LOKI: {"singleBinary.persistence"},
    MIMIR_DISTRIBUTED: {
        "ingester.persistentVolume",
        "store_gateway.persistentVolume",
        "compactor.persistentVolume",
        "kafka.persistence",
    },
    GRAFANA: set(),
    EXTERNAL_DNS: set(),
}
RELEASES = {**BUILDERS, "mimir": (_mimir, lambda s: MIMIR_DISTRIBUTED)}
CASES = [(r, "hub") for r in sorted(BUILDERS)] + [(r, "large") for r in sorted(RELEASES)]


def _with_storage_class(settings: HubSettings, storage_class: Optional[str]) -> HubSettings:
    kubernetes = settings.kubernetes.model_copy(update={"storage_class": storage_class})
    return settings.model_copy(update={"kubernetes": kubernetes})


def _claims(chart: Chart, values: dict[str, Any]) -> dict[str, Optional[str]]:
    """Each volume claim the release renders -> the StorageClass it names (None: the cluster default).

    Claims are the enabled `persistence` / `persistentVolume` blocks, at the top or in a component
    that is not disabled, and prometheus-operator storage specs with a volumeClaimTemplate.
    """
    coalesced = merge(reference_values(chart), values)
    chart_wide = (coalesced.get("global") or {}).get("storageClass")
    claims: dict[str, Optional[str]] = {}
    components = {"": coalesced, **{k: v for k, v in coalesced.items() if isinstance(v, dict)}}
    for name, component in components.items():
        if component.get("enabled") is False:
            continue
        for block in ("persistence", "persistentVolume"):
            volume = component.get(block)
            if isinstance(volume, dict) and volume.get("enabled"):
                named = [volume[k] for k in CLASS_KEYS if volume.get(k)]
                claims[f"{name}.{block}".lstrip(".")] = named[0] if named else chart_wide
    if chart == KUBE_PROMETHEUS_STACK:
        for name, spec, storage in (
            ("prometheus", "prometheusSpec", "storageSpec"),
            ("alertmanager", "alertmanagerSpec", "storage"),
            ("thanosRuler", "thanosRulerSpec", "storage"),
        ):
            template = coalesced[name][spec][storage].get("volumeClaimTemplate")
            if coalesced[name].get("enabled", True) and template:
                claims[f"{name}.{spec}.{storage}"] = template["spec"].get("storageClassName")
    return claims


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield key
            yield from _keys(sub)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


@pytest.mark.parametrize(("release", "stack"), CASES)
def test_every_volume_claim_names_the_configured_storage_class(
    request: pytest.FixtureRequest, release: str, stack: str
) -> None:
    settings = _with_storage_class(request.getfixturevalue(stack), STORAGE_CLASS)
    build, chart_of = RELEASES[release]
    chart = chart_of(settings)
    values = build(settings)
    claims = _claims(chart, values)
    assert set(claims) == CLAIMS[chart]
    assert set(claims.values()) <= {STORAGE_CLASS}
    assert unknown_keys(chart, values, FREE_FORM[chart]) == []


@pytest.mark.parametrize(("release", "stack"), CASES)
def test_unset_storage_class_leaves_the_cluster_default(request: pytest.FixtureRequest, release: str, stack: str) -> None:
    settings: HubSettings = request.getfixturevalue(stack)
    assert settings.kubernetes.storage_class is None
    build, chart_of = RELEASES[release]
    values = build(settings)
    assert CLASS_KEYS.isdisjoint(_keys(values))
    assert set(_claims(chart_of(settings), values).values()) <= {None}


def test_distributed_tempo_names_the_class_chart_wide(large: HubSettings) -> None:
    values = _tempo(_with_storage_class(large, STORAGE_CLASS))
    assert values["global"] == {"storageClass": STORAGE_CLASS}


# --- Availability: replicas, disruption budgets and spread as the plan says ------------------------


@dataclass(frozen=True)
class Placed:
    """What a chart's values say about one component's copies."""

    replicas: int
    labels: dict[str, str]
    spread: list[dict[str, Any]]
    max_unavailable: Optional[int]
    """None: no disruption budget."""


def _kps_placed(values: dict[str, Any], part: str, spec: str) -> Placed:
    section = values[part]
    budget = section["podDisruptionBudget"]
    replicas = section[spec]["replicas"]
    return Placed(
        replicas,
        section[spec]["podMetadata"]["labels"],
        section[spec]["topologySpreadConstraints"],
        replicas - budget["minAvailable"] if budget["enabled"] else None,
    )


def _chart_placed(section: dict[str, Any]) -> Placed:
    budget = section["podDisruptionBudget"]
    spread = section["topologySpreadConstraints"]
    if "enabled" in budget and not budget["enabled"] or not budget:
        limit = None
    else:  # tempo-distributed keeps the limit beside its switch
        limit = budget.get("maxUnavailable", section.get("maxUnavailable"))
    return Placed(
        section["replicas"],
        section["podLabels"],
        yaml.safe_load(spread) if isinstance(spread, str) else spread,
        limit,
    )


PLACED: dict[Tier, dict[Component, Callable[[HubSettings], Placed]]] = {
    tier: {
        Component.ALERTMANAGER: lambda s: _kps_placed(_prometheus(s), "alertmanager", "alertmanagerSpec"),
        Component.RECEIVER: lambda s: _kps_placed(_prometheus(s), "prometheus", "prometheusSpec"),
        Component.GRAFANA: lambda s: _chart_placed(_grafana(s)),
        Component.LOKI: lambda s: _chart_placed(_loki(s)["singleBinary"]),
        Component.LOKI_GATEWAY: lambda s: _chart_placed(_loki(s)["gateway"]),
    }
    for tier in Tier
}
PLACED[Tier.MIMIR][Component.TEMPO] = lambda s: _chart_placed(_tempo(s)["distributor"])
PLACED[Tier.MIMIR][Component.MIMIR_GATEWAY] = lambda s: _chart_placed(_mimir(s)["gateway"])
CASES_BY_TIER = [(tier, component) for tier in Tier for component in PLACED[tier]]


@pytest.mark.parametrize(("tier", "component"), CASES_BY_TIER)
def test_replicas_budgets_and_spread_follow_the_plan(
    request: pytest.FixtureRequest, tier: Tier, component: Component
) -> None:
    settings: HubSettings = request.getfixturevalue("large" if tier is Tier.MIMIR else "hub")
    assert settings.tier is tier
    placed = PLACED[tier][component](settings)
    placement = HubPlan.of(settings).availability.placement(component)
    assert placed.replicas == placement.replicas
    # A budget on every replicated copy, one pod at a time; none on a single copy (it would block drains).
    assert placed.max_unavailable == (1 if placement.replicas > 1 else None)
    # The constraints select the component's own pods, by a label those pods carry.
    assert placed.labels.items() >= component_labels(component).items()
    by_key = {c["topologyKey"]: c for c in placed.spread}
    assert set(by_key) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    for constraint in placed.spread:
        assert constraint["labelSelector"] == {"matchLabels": component_labels(component)}
        assert constraint["maxSkew"] == 1
    assert by_key["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    zone = "DoNotSchedule" if tier is Tier.MIMIR else "ScheduleAnyway"
    assert by_key["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == zone


@pytest.mark.parametrize("stack", ["hub", "large"])
def test_alertmanager_grafana_and_the_ingest_path_run_at_least_two_copies(request: pytest.FixtureRequest, stack: str) -> None:
    settings: HubSettings = request.getfixturevalue(stack)
    values = _prometheus(settings)
    assert values["alertmanager"]["alertmanagerSpec"]["replicas"] >= 2
    assert _grafana(settings)["replicas"] >= 2
    assert _grafana(settings)["service"]["sessionAffinity"] == "ClientIP"
    assert _loki(settings)["gateway"]["replicas"] >= 2
    assert HubPlan.of(settings).availability.front_door_replicas >= 2


def test_the_prometheus_tier_names_what_it_cannot_make_highly_available(hub: HubSettings) -> None:
    availability = HubPlan.of(hub).availability
    singles = {c.value for c in PLACED[Tier.PROMETHEUS] if availability.placement(c).replicas == 1}
    assert singles == {"prometheus", "loki"}
    assert singles <= set(availability.single_points)
    assert "mimir" in availability.single_points["prometheus"]  # the documented alternative
    assert "tempo" in availability.single_points
    values = _prometheus(hub)
    assert values["prometheus"]["prometheusSpec"]["replicas"] == 1
    assert values["prometheus"]["podDisruptionBudget"]["enabled"] is False


def test_the_scale_tier_replicates_every_store_across_zones(large: HubSettings) -> None:
    loki = _loki(large)
    assert loki["loki"]["commonConfig"]["replication_factor"] == loki["singleBinary"]["replicas"] == SCALE_ZONES
    mimir = _mimir(large)
    for component in ("ingester", "store_gateway"):
        aware = mimir[component]["zoneAwareReplication"]
        assert aware == {"enabled": True, "topologyKey": "topology.kubernetes.io/zone"}
    assert mimir["distributor"]["replicas"] >= 2
    assert {c["topologyKey"] for c in mimir["distributor"]["topologySpreadConstraints"]} >= {"topology.kubernetes.io/zone"}
    assert _prometheus(large)["prometheus"]["prometheusSpec"]["replicas"] == 2


def test_mimir_deduplicates_edge_pairs_with_its_ha_tracker(large: HubSettings) -> None:
    edges = [e.model_copy(update={"agent_replicas": 2}) if i == 1 else e for i, e in enumerate(large.edges)]
    tracker = HaTracker(store="etcd", endpoints=["etcd-0.etcd:2379", "etcd-1.etcd:2379"])
    paired = large.model_copy(update={"edges": edges, "scale": large.scale.model_copy(update={"ha_tracker": tracker})})
    values = _mimir(paired)
    assert values["mimir"]["structuredConfig"]["distributor"]["ha_tracker"] == {
        "enable_ha_tracker": True,
        "kvstore": {"store": "etcd", "etcd": {"endpoints": ["etcd-0.etcd:2379", "etcd-1.etcd:2379"]}},
    }
    overrides = values["runtimeConfig"]["overrides"]
    # Only the pair's tenant accepts HA samples (a single agent sends no replica label).
    assert [name for name, o in overrides.items() if o.get("accept_ha_samples")] == [edges[1].name]
    assert "distributor" not in _mimir(large)["mimir"]["structuredConfig"]
