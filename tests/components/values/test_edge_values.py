"""Edge Helm values: keys exist in the pinned charts, the collector config is whole, secrets stay out."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from components.charts import CILIUM, KUBE_PROMETHEUS_STACK, OPENTELEMETRY_COLLECTOR
from components.edge_sizing import for_settings
from components.settings import ConfigError, EdgeSettings, parse
from components.values.edge_cilium import cilium_values
from components.values.edge_collector import PRESET_COMPONENTS, TLS_DIR, collector_values
from components.values.edge_prometheus import kube_prometheus_stack_values
from tests.components.settings_samples import EDGE as BASE_EDGE, edge_settings
from tests.helm_reference import chart_file, coalesce, reference_values, unknown_keys

PEER = {"name": "edge-eu-north", "id": 2, "address": "clustermesh.edge-eu-north.example.com"}
EDGE: dict[str, Any] = {**BASE_EDGE, "seriesEstimate": 80_000, "clusterMesh": {"id": 1, "peers": [PEER]}}
URL = "https://metrics.obs.eu.example.com/api/v1/write"
OTLP = "https://otlp.obs.eu.example.com"
LOKI = "https://logs.obs.eu.example.com/otlp"
SECRET = "obsfleet-hub-client-tls"

# prometheus-operator v0.93 RemoteWriteSpec / SafeTLSConfig fields (pkg/apis/monitoring/v1).
REMOTE_WRITE_FIELDS = {
    "url", "name", "messageVersion", "sendExemplars", "sendNativeHistograms", "remoteTimeout", "headers",
    "writeRelabelConfigs", "oauth2", "basicAuth", "bearerTokenFile", "authorization", "sigv4", "azureAd",
    "tlsConfig", "proxyUrl", "followRedirects", "queueConfig", "metadataConfig", "enableHTTP2", "roundRobinDNS",
}
RUNTIME_FIELDS = {"goGC"}  # prometheus-operator v0.93 RuntimeConfig
TLS_FIELDS = {"ca", "cert", "keySecret", "caFile", "certFile", "keyFile", "serverName", "insecureSkipVerify"}
# Maps the charts pass through as they are (documented `{}` in values.yaml); what goes inside is
# checked by the tests below (collector config) or is plain Kubernetes (labels, resources, PVC template).
FREE_FORM = {
    KUBE_PROMETHEUS_STACK: [
        "commonLabels",
        "prometheus.prometheusSpec.externalLabels",
        "prometheus.prometheusSpec.resources",
        "prometheus.prometheusSpec.storageSpec",
        "prometheus.prometheusSpec.runtime",  # prometheus-operator RuntimeConfig: RUNTIME_FIELDS
    ],
    OPENTELEMETRY_COLLECTOR: ["alternateConfig", "resources", "podLabels"],
    CILIUM: ["clustermesh.apiserver.service.annotations"],
}
# Processors that keep trace ids, span ids, parents and links as they arrive.
CONTEXT_SAFE_PROCESSORS = {"memory_limiter", "k8sattributes", "resource", "batch"}


@pytest.fixture(scope="module")
def settings() -> EdgeSettings:
    return edge_settings(EDGE)


@pytest.fixture(scope="module")
def metrics(settings: EdgeSettings) -> dict[str, Any]:
    return kube_prometheus_stack_values(settings, for_settings(settings), URL, SECRET)


@pytest.fixture(scope="module")
def collector(settings: EdgeSettings) -> dict[str, Any]:
    return collector_values(settings, OTLP, LOKI, SECRET)


def test_every_key_is_in_the_charts_values(settings: EdgeSettings, metrics: dict, collector: dict) -> None:
    assert unknown_keys(KUBE_PROMETHEUS_STACK, metrics, FREE_FORM[KUBE_PROMETHEUS_STACK]) == []
    assert unknown_keys(OPENTELEMETRY_COLLECTOR, collector, FREE_FORM[OPENTELEMETRY_COLLECTOR]) == []
    assert unknown_keys(CILIUM, cilium_values(settings), FREE_FORM[CILIUM]) == []


def test_collector_values_pass_the_charts_schema(collector: dict) -> None:
    # Helm validates the coalesced values (chart defaults + ours) against values.schema.json.
    schema_path = chart_file(OPENTELEMETRY_COLLECTOR, "values.schema.json")
    merged = coalesce(reference_values(OPENTELEMETRY_COLLECTOR), collector)
    jsonschema.Draft7Validator(json.loads(schema_path.read_text())).validate(merged)


def test_agent_mode_ships_everything_to_the_hub(settings: EdgeSettings, metrics: dict) -> None:
    assert metrics["prometheus"]["agentMode"] is True
    assert metrics["alertmanager"]["enabled"] is False and metrics["grafana"]["enabled"] is False
    assert metrics["defaultRules"]["create"] is False, "an agent evaluates no rules"
    assert metrics["kubeStateMetrics"]["enabled"] and metrics["nodeExporter"]["enabled"]
    spec = metrics["prometheus"]["prometheusSpec"]
    assert spec["externalLabels"] == {"cluster": "edge-eu", "region": "eu-west-1", "regime": "gdpr"}
    assert spec["prometheusExternalLabelNameClear"] and spec["replicaExternalLabelNameClear"], "no operator labels"
    assert spec["scrapeInterval"] == "30s"
    sizing = for_settings(settings)
    assert spec["additionalArgs"] == [
        {"name": "storage.agent.retention.max-time", "value": "4h"},
        {"name": "storage.agent.wal-truncate-frequency", "value": sizing.wal_truncate_frequency},
    ]
    assert spec["resources"] == sizing.resources.kubernetes()
    assert set(spec["runtime"]) <= RUNTIME_FIELDS
    assert spec["runtime"]["goGC"] == sizing.go_gc < 100, "below Go's default: the agent's heap headroom is sized"
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == f"{sizing.wal_volume_gib}Gi"


def test_wal_volume_names_the_configured_storage_class(metrics: dict) -> None:
    gp3 = parse({**EDGE, "kubernetes": {"storageClass": "gp3"}})
    values = kube_prometheus_stack_values(gp3, for_settings(gp3), URL, SECRET)
    assert unknown_keys(KUBE_PROMETHEUS_STACK, values, FREE_FORM[KUBE_PROMETHEUS_STACK]) == []
    claim = values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim.pop("storageClassName") == "gp3"
    # Unset, the claim names no class (the cluster default applies); nothing else differs.
    assert values == metrics


def test_remote_write_is_mtls_from_the_secret_with_tenant_and_sized_queue(settings: EdgeSettings, metrics: dict) -> None:
    [remote] = metrics["prometheus"]["prometheusSpec"]["remoteWrite"]
    assert set(remote) <= REMOTE_WRITE_FIELDS and set(remote["tlsConfig"]) <= TLS_FIELDS
    assert remote["url"] == URL
    assert remote["headers"] == {"X-Scope-OrgID": "edge-eu"}
    assert remote["tlsConfig"] == {
        "ca": {"secret": {"name": SECRET, "key": "ca.crt"}},
        "cert": {"secret": {"name": SECRET, "key": "tls.crt"}},
        "keySecret": {"name": SECRET, "key": "tls.key"},
    }
    queue = remote["queueConfig"]
    assert queue == for_settings(settings).queue.operator()
    assert (queue["maxShards"], queue["capacity"], queue["maxSamplesPerSend"], queue["retryOnRateLimit"]) == (2, 4_500, 4_500, True)


def test_collector_pipelines_only_use_defined_components(collector: dict) -> None:
    config = collector["alternateConfig"]
    service = config["service"]
    defined = {kind: set(config.get(kind, {})) | PRESET_COMPONENTS[kind] for kind in PRESET_COMPONENTS}
    assert set(service["extensions"]) <= defined["extensions"]
    assert set(service["pipelines"]) == {"traces", "logs"}
    for name, pipeline in service["pipelines"].items():
        for kind in ("receivers", "processors", "exporters"):
            assert pipeline[kind], f"{name} has no {kind}"
            assert set(pipeline[kind]) <= defined[kind], f"{name}.{kind}: {set(pipeline[kind]) - defined[kind]}"
        assert pipeline["processors"][0] == "memory_limiter" and pipeline["processors"][-1] == "batch"
        assert set(pipeline["processors"]) <= CONTEXT_SAFE_PROCESSORS, "W3C trace context must pass untouched"
    assert service["pipelines"]["traces"]["exporters"] == ["otlphttp/tempo"]
    assert service["pipelines"]["logs"]["exporters"] == ["otlphttp/loki"]
    assert "filelog" in service["pipelines"]["logs"]["receivers"]
    presets = collector["presets"]
    assert presets["logsCollection"] == {"enabled": True, "storeCheckpoints": True}
    assert presets["kubernetesAttributes"]["enabled"] is True


def test_collector_exports_over_mtls_with_tenant_and_a_persistent_queue(collector: dict) -> None:
    config = collector["alternateConfig"]
    exporters = config["exporters"]
    assert exporters["otlphttp/tempo"]["endpoint"] == OTLP
    assert exporters["otlphttp/loki"]["endpoint"] == LOKI
    for exporter in exporters.values():
        assert exporter["tls"]["cert_file"] == f"{TLS_DIR}/tls.crt" and exporter["tls"]["key_file"] == f"{TLS_DIR}/tls.key"
        assert exporter["tls"]["ca_file"] == f"{TLS_DIR}/ca.crt"
        # A rotated certificate is picked up without a restart, well inside the shortest early-renewal window (1 day).
        assert exporter["tls"]["reload_interval"] == "1h"
        assert exporter["headers"] == {"X-Scope-OrgID": "edge-eu"}
        queue = exporter["sending_queue"]
        assert queue["enabled"] and queue["block_on_overflow"] and queue["storage"] in config["extensions"]
        assert queue["queue_size"] == 4 * 3600 // 5
        assert exporter["retry_on_failure"]["enabled"] and exporter["retry_on_failure"]["max_elapsed_time"] == "4h"
    [volume] = collector["extraVolumes"]
    assert volume["secret"]["secretName"] == SECRET
    assert collector["extraVolumeMounts"] == [{"name": volume["name"], "mountPath": TLS_DIR, "readOnly": True}]
    assert collector["mode"] == "daemonset"


def test_collector_stamps_cluster_region_and_regime(collector: dict) -> None:
    attributes = {a["key"]: a["value"] for a in collector["alternateConfig"]["processors"]["resource"]["attributes"]}
    assert attributes == {"k8s.cluster.name": "edge-eu", "cloud.provider": "aws", "cloud.region": "eu-west-1", "regime": "gdpr"}


def test_no_key_material_in_values(metrics: dict, collector: dict) -> None:
    text = json.dumps([metrics, collector])
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text


def test_cilium_mesh_identity_and_peers_through_the_charts_own_config(settings: EdgeSettings) -> None:
    values = cilium_values(settings)
    assert values["cluster"] == {"name": "edge-eu", "id": 1}
    mesh = values["clustermesh"]
    assert mesh["useAPIServer"] is True
    # The chart then renders the Secrets and ConfigMap its clustermesh pods mount.
    assert mesh["config"] == {
        "enabled": True,
        "clusters": [{"name": "edge-eu-north", "address": "clustermesh.edge-eu-north.example.com", "port": 2379}],
    }
    service = mesh["apiserver"]["service"]
    assert service == {"type": "LoadBalancer", "annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}}
    gcp = parse({**EDGE, "cloud": "gcp", "region": "europe-west1", "project": "acme-obs-eu"})
    assert cilium_values(gcp)["clustermesh"]["apiserver"]["service"]["annotations"] == {  # type: ignore[arg-type]
        "networking.gke.io/load-balancer-type": "Internal"
    }


def test_cilium_refuses_names_it_cannot_carry_and_edges_outside_a_mesh() -> None:
    long_name = parse({**EDGE, "cluster": "edge-" + "x" * 30})
    with pytest.raises(ConfigError, match="obsfleet:cluster: 'edge-x+' is 35 characters"):
        cilium_values(long_name)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="obsfleet:clusterMesh: not set"):
        cilium_values(parse({k: v for k, v in EDGE.items() if k != "clusterMesh"}))  # type: ignore[arg-type]


def test_an_ha_pair_runs_two_agents_on_two_nodes_each_naming_its_replica() -> None:
    single = _agent_spec(EDGE)
    assert single["replicas"] == 1 and single["replicaExternalLabelNameClear"] is True
    pair = _agent_spec({**EDGE, "agentReplicas": 2})
    assert pair["replicas"] == 2
    # The operator sets the label to the pod's name: what Mimir's HA tracker elects by (its default
    # replica label), beside the `cluster` label both agents share.
    assert pair["replicaExternalLabelName"] == "__replica__" and "replicaExternalLabelNameClear" not in pair
    assert pair["externalLabels"]["cluster"] == single["externalLabels"]["cluster"]
    assert pair["podAntiAffinity"] == "hard"
    assert set(pair) <= set(reference_values(KUBE_PROMETHEUS_STACK)["prometheus"]["prometheusSpec"])


def _agent_spec(config: dict[str, Any]) -> dict[str, Any]:
    settings = edge_settings(config)
    values = kube_prometheus_stack_values(settings, for_settings(settings), URL, SECRET)
    return values["prometheus"]["prometheusSpec"]
