"""Settings models: valid config parses, every bad value names its key path and what is allowed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.settings import PATTERN_WORDS, ConfigError, EdgeSettings, HubSettings, Tier, from_engine, parse, required_secrets
from tests.components.settings_samples import EDGE, HUB


def engine_config(values: dict[str, Any]) -> dict[str, str]:
    """`values` as the engine passes config: namespaced keys, strings verbatim, the rest as JSON."""
    return {f"obsfleet:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def test_hub_defaults() -> None:
    hub = parse(HUB)
    assert isinstance(hub, HubSettings)
    assert (hub.retention.metrics, hub.retention.logs, hub.retention.traces) == (30, 30, 14)
    assert hub.tier is Tier.PROMETHEUS
    assert hub.kubernetes.namespace == "observability"
    assert required_secrets(hub) == ["grafanaAdminPassword"]


def test_edge_defaults() -> None:
    edge = parse(EDGE)
    assert isinstance(edge, EdgeSettings)
    assert edge.buffer_hours == 4.0 and edge.series_estimate == 50_000 and edge.scrape_interval_seconds == 30
    assert required_secrets(edge) == []


def test_storage_class_is_optional_and_named_like_a_kubernetes_object() -> None:
    assert parse(EDGE).kubernetes.storage_class is None
    assert parse({**EDGE, "kubernetes": {"storageClass": "gp3"}}).kubernetes.storage_class == "gp3"
    kubernetes = {"context": "edge-eu", "storageClass": "premium-rwo.example.io"}
    engine = from_engine({**engine_config(EDGE), "obsfleet:kubernetes": json.dumps(kubernetes)})
    assert engine.kubernetes.storage_class == "premium-rwo.example.io"


@pytest.mark.parametrize(
    ("storage_class", "message"),
    [
        ("GP3", r"'GP3': must be a Kubernetes object name: lowercase letters"),
        ("gp3_encrypted", r"'gp3_encrypted': must be a Kubernetes object name"),
        ("-", r"'-': must be a Kubernetes object name"),  # the charts' "no dynamic provisioning", not a class
        ("", r"'': must be a Kubernetes object name"),
        ("a" * 254, r"String should have at most 253 characters"),
    ],
)
def test_bad_storage_class_is_named(storage_class: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^obsfleet:kubernetes\.storageClass: .*" + message):
        parse({**HUB, "kubernetes": {"storageClass": storage_class}})


def test_tier_follows_fleet_size() -> None:
    many = [{"name": f"edge-{i}", "region": "eu-west-1"} for i in range(101)]
    assert parse({**HUB, "edges": many}).tier is Tier.MIMIR
    assert parse({**HUB, "scale": {"tier": "mimir"}}).tier is Tier.MIMIR
    with pytest.raises(ConfigError, match=r"obsfleet:scale.tier: 'prometheus' cannot serve 101 edges"):
        parse({**HUB, "edges": many, "scale": {"tier": "prometheus"}})


def test_edges_sharing_a_hub_default_to_the_isolated_tier() -> None:
    one = parse(HUB)
    assert len(one.edges) == 1 and one.tier is Tier.PROMETHEUS and one.metrics_isolated
    two = [{"name": f"edge-{i}", "region": "eu-west-1"} for i in range(2)]
    shared = parse({**HUB, "edges": two})
    assert shared.tier is Tier.MIMIR and shared.metrics_isolated
    opted = parse({**HUB, "edges": two, "scale": {"tier": "prometheus"}})
    assert opted.tier is Tier.PROMETHEUS and not opted.metrics_isolated


def test_engine_strings_decode_like_yaml() -> None:
    raw = engine_config(EDGE)
    raw |= {"obsfleet:bufferHours": "6", "obsfleet:seriesEstimate": "120000", "aws:region": "eu-west-1"}
    edge = from_engine(raw)
    assert isinstance(edge, EdgeSettings)
    assert edge.buffer_hours == 6.0 and edge.series_estimate == 120_000


def test_cluster_named_like_a_number_stays_a_string() -> None:
    raw = engine_config(EDGE) | {"obsfleet:cluster": "1234"}
    assert from_engine(raw).cluster == "1234"


def test_secret_keys_are_not_modelled() -> None:
    hub = parse({**HUB, "slackUrl": "x"}, secret_keys=frozenset({"slackUrl"}))
    assert hub.cluster == "hub-eu"


def test_adequacy_opt_in_admits_london() -> None:
    edges = [{"name": "edge-uk", "region": "eu-west-2"}]
    with pytest.raises(ConfigError, match=r"obsfleet:edges\[0\]\.region: 'eu-west-2' \(GB\) is outside the gdpr"):
        parse({**HUB, "edges": edges})
    assert parse({**HUB, "edges": edges, "residency": {"allowAdequacy": True}}).edges[0].region == "eu-west-2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "spoke"}, r"^obsfleet:role: 'spoke' is not allowed \(allowed: edge, hub\)$"),
        ({"cloud": "azure"}, r"^obsfleet:cloud: 'azure' is not allowed \(allowed: aws, gcp\)$"),
        ({"regime": "hipaa"}, r"^obsfleet:regime: 'hipaa' is not allowed \(allowed: ccpa, gdpr, pdpa\)$"),
        ({"region": "us-east-1"}, r"^obsfleet:region: 'us-east-1' \(US\) is outside the gdpr boundary \(allowed: AT, BE, "),
        ({"region": "eu-central-9"}, r"^obsfleet:region: unknown aws region 'eu-central-9'"),
        ({"cluster": "Hub_EU"}, r"^obsfleet:cluster: 'Hub_EU': must be a DNS label: lowercase letters, digits and '-'"),
        ({"edges": []}, r"^obsfleet:edges: \[\]: List should have at least 1 item"),
        ({"edges": [{"name": "edge-eu", "region": "eu-west-1"}, {"name": "edge-eu", "region": "eu-north-1"}]},
         r"^obsfleet:edges\[1\]\.name: duplicate 'edge-eu'$"),
        ({"edges": [{"name": "edge-eu", "region": "eu-west-1", "zone": "a"}]}, r"^obsfleet:edges\[0\]\.zone: unknown key \(allowed: agentReplicas, bufferHours, name, region, seriesEstimate, stack\)$"),
        ({"edges": [{"name": "edge-eu", "region": "eu-west-1", "bufferHours": 100}]},
         r"^obsfleet:edges\[0\]\.bufferHours: 100: Input should be less than or equal to 72$"),
        ({"retention": {"metrics": -1}}, r"^obsfleet:retention\.metrics: -1: Input should be greater than 0$"),
        ({"retention": {"logs": "30"}}, r"^obsfleet:retention\.logs: '30': Input should be a valid integer$"),
        ({"domain": "not a domain"}, r"^obsfleet:domain: 'not a domain': must be a DNS name of lowercase labels"),
        ({"replicaRegion": "us-east-1"}, r"^obsfleet:replicaRegion: 'us-east-1' \(US\) is outside the gdpr boundary"),
        ({"replicaRegion": "eu-central-1"}, r"^obsfleet:replicaRegion: 'eu-central-1' is the hub's own region$"),
        ({"retentionDays": 3}, r"^obsfleet:retentionDays: unknown key \(allowed: alerting, cloud, cluster, domain, edges, "),
        ({"hubStack": "hub"}, r"^obsfleet:hubStack: unknown key \(allowed: [a-zA-Z, ]*\)$"),
        ({"edges": [{"name": "edge-eu", "region": "eu-west-1"}, {"name": "edge-eu-2", "region": "eu-west-1", "stack": "edge-eu"}]},
         r"^obsfleet:edges\[1\]\.stack: duplicate 'edge-eu'$"),
        ({"edges": [{"name": "edge-eu", "region": "eu-west-1", "stack": "acme/obsfleet/edge-eu"}]},
         r"^obsfleet:edges\[0\]\.stack: 'acme/obsfleet/edge-eu': must be a stack's short name \(hub\)"),
        ({"pki": {"nextCa": "1"}}, r"^obsfleet:pki\.nextCa: '1' is already the current ca; name the new CA differently$"),
        ({"pki": {"ca": "Blue CA"}}, r"^obsfleet:pki\.ca: 'Blue CA': must be a CA name"),
        ({"org": "acme/obsfleet"}, r"^obsfleet:org: 'acme/obsfleet': must be a Pulumi organization or user name \(acme\)"),
        ({"pki": {"certValidityDays": 30, "earlyRenewalDays": 30}},
         r"^obsfleet:pki: earlyRenewalDays \(30\) must be less than certValidityDays \(30\)$"),
        ({"alerting": {"receivers": [{"name": "a", "type": "slack", "secret": "slackUrl"}]}},
         r"^obsfleet:alerting\.receivers\[0\]\.channel: required for a slack receiver, and only for slack$"),
        ({"project": "acme-obs"}, r"^obsfleet:project: only for cloud gcp$"),
        ({"residency": {"allowedCountries": ["DE", "UK"]}},
         r"^obsfleet:residency\.allowedCountries: 'UK' is not an ISO 3166-1 alpha-2 country code .*ISO writes GB$"),
        ({"residency": {"allowedCountries": ["DE"]}}, r"^obsfleet:edges\[0\]\.region: 'eu-west-1' \(IE\) is outside the gdpr boundary \(allowed: DE\)$"),
        ({"alerting": {"receivers": [{"name": "a", "type": "email", "secret": "x"}]}},
         r"^obsfleet:alerting\.receivers\[0\]\.type: 'email' is not allowed \(allowed: pagerduty, slack, webhook\)$"),
        ({"scale": {"tier": "thanos"}}, r"^obsfleet:scale\.tier: 'thanos' is not allowed \(allowed: mimir, prometheus\)$"),
        ({"cloud": 5}, r"^obsfleet:cloud: 5 is not allowed \(allowed: aws, gcp\)$"),
        ({"retention": 30}, r"^obsfleet:retention: 30: should be a mapping of keys$"),
        ({"edges": ["edge-eu"]}, r"^obsfleet:edges\[0\]: 'edge-eu': should be a mapping of keys$"),
        ({"alerting": {"receivers": [{"name": "a", "type": "webhook", "secret": "x"},
                                     {"name": "a", "type": "webhook", "secret": "y"}]}},
         r"^obsfleet:alerting\.receivers\[1\]\.name: duplicate 'a'$"),
        ({"oidcProvider": None}, r"^obsfleet:oidcProvider: required on aws"),
        ({"scale": {"tier": "prometheus", "tracesKafka": {"address": "kafka.example.com:9092"}}},
         r"^obsfleet:scale\.tracesKafka: only used in the Mimir tier"),
        ({"scale": {"tier": "mimir", "tracesKafka": {"address": "kafka.example.com"}}},
         r"^obsfleet:scale\.tracesKafka\.address: 'kafka\.example\.com': must be a Kafka broker host:port"),
        ({"scale": {"tier": "mimir", "tracesKafka": {"address": "k.example.com:9092", "partitions": 0}}},
         r"^obsfleet:scale\.tracesKafka\.partitions: 0: Input should be greater than or equal to 1$"),
        ({"scale": {"tier": "prometheus", "tracesBytesPerSecond": 65536}},
         r"^obsfleet:scale\.tracesBytesPerSecond: only used in the Mimir tier \(it sizes the hub's traces Kafka"),
        ({"scale": {"tier": "mimir", "tracesBytesPerSecond": 65536, "tracesKafka": {"address": "k.example.com:9092"}}},
         r"^obsfleet:scale\.tracesBytesPerSecond: sizes the hub's own traces Kafka, which scale\.tracesKafka replaces"),
        ({"scale": {"tier": "mimir", "tracesBytesPerSecond": 0}},
         r"^obsfleet:scale\.tracesBytesPerSecond: 0: Input should be greater than 0$"),
        ({"scale": {"tier": "mimir", "tracesBytesPerSecond": 384_000_001}},
         r"^obsfleet:scale\.tracesBytesPerSecond: 384000001: Input should be less than or equal to 384000000$"),
        ({"scale": {"tier": "mimir", "tracesBytes": 65536}},
         r"^obsfleet:scale\.tracesBytes: unknown key \(allowed: haTracker, tier, tracesBytesPerSecond, tracesKafka\)$"),
        ({"scale": {"tier": "mimir", "tracesKafka": {"address": "k.example.com:9092", "topic": "spans"}}},
         r"^obsfleet:scale\.tracesKafka\.topic: unknown key \(allowed: address, partitions\)$"),
        ({"alerting": {"receivers": [{"name": "sre", "type": "webhook", "secret": "hookUrl", "url": "x"}]}},
         r"^obsfleet:alerting\.receivers\[0\]\.url: unknown key \(allowed: channel, name, secret, type\)$"),
        ({"scale": {"tier": "mimir", "tracesBytesPerSecond": "1MB"}},
         r"^obsfleet:scale\.tracesBytesPerSecond: '1MB': Input should be a valid integer$"),
    ],
)
def test_bad_hub_config(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse({**HUB, **change})


PEER = {"name": "edge-b", "id": 2, "address": "clustermesh.edge-b.example.com"}


def test_a_mesh_with_peers_is_accepted() -> None:
    settings = parse({**EDGE, "clusterMesh": {"id": 1, "peers": [PEER]}})
    assert isinstance(settings, EdgeSettings) and settings.cluster_mesh is not None
    [peer] = settings.cluster_mesh.peers
    assert (peer.name, peer.id, peer.address, peer.port) == ("edge-b", 2, "clustermesh.edge-b.example.com", 2379)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # The org is set once (obsfleet:org): a fully qualified hub stack would be a second place.
        ({"hubStack": "acme/obsfleet/hub"}, r"^obsfleet:hubStack: 'acme/obsfleet/hub': must be a stack's short name \(hub\)"),
        ({"bufferHours": 0}, r"^obsfleet:bufferHours: 0: Input should be greater than 0$"),
        ({"seriesEstimate": 1.5}, r"^obsfleet:seriesEstimate: 1\.5: Input should be a valid integer"),
        ({"queue": {"maxShards": 0}}, r"^obsfleet:queue\.maxShards: 0: Input should be greater than 0$"),
        ({"queue": {"batchSendDeadline": "5 seconds"}}, r"^obsfleet:queue\.batchSendDeadline: '5 seconds': must be a Prometheus duration: a whole number and one unit"),
        ({"clusterMesh": {"id": 300, "peers": [PEER]}}, r"^obsfleet:clusterMesh\.id: 300: Input should be less than or equal to 255$"),
        # Meshes the chart cannot run: no peer to connect to, or ids that collide.
        ({"clusterMesh": {"id": 1}}, r"^obsfleet:clusterMesh\.peers: a mesh member needs at least one peer"),
        ({"clusterMesh": {"id": 1, "peers": []}}, r"^obsfleet:clusterMesh\.peers: a mesh member needs at least one peer"),
        ({"clusterMesh": {"id": 2, "peers": [PEER]}},
         r"^obsfleet:clusterMesh\.peers\[0\]\.id: 2 is this cluster's own id; ids are unique across the mesh$"),
        ({"clusterMesh": {"id": 1, "peers": [PEER, {**PEER, "name": "edge-c", "address": "c.example.com"}]}},
         r"^obsfleet:clusterMesh\.peers\[1\]\.id: 2 is the id of peer 'edge-b'; ids are unique across the mesh$"),
        ({"clusterMesh": {"id": 1, "peers": [PEER, {**PEER, "id": 3}]}},
         r"^obsfleet:clusterMesh\.peers\[1\]\.name: duplicate 'edge-b'$"),
        ({"clusterMesh": {"id": 1, "peers": [{**PEER, "name": "edge-eu"}]}},
         r"^obsfleet:clusterMesh\.peers\[0\]\.name: 'edge-eu' is this cluster; peers are the others$"),
        ({"clusterMesh": {"id": 1, "peers": [{**PEER, "address": "10.0.0.1:2379"}]}},
         r"^obsfleet:clusterMesh\.peers\[0\]\.address: '10\.0\.0\.1:2379': must be a DNS name"),
        ({"clusterMesh": {"id": 1, "peers": [{**PEER, "name": "e" * 33}]}},
         r"^obsfleet:clusterMesh\.peers\[0\]\.name: 'e{33}': String should have at most 32 characters$"),
        ({"edges": [{"name": "x", "region": "eu-west-1"}]}, r"^obsfleet:edges: unknown key \(allowed: agent, agentReplicas, "),
        ({"cloud": "gcp", "region": "europe-west1"}, r"^obsfleet:project: required when cloud is gcp"),
    ],
)
def test_bad_edge_config(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse({**EDGE, **change})


def test_missing_role_is_named_with_the_allowed_values() -> None:
    with pytest.raises(ConfigError, match=r"^obsfleet:role: required key is missing \(allowed: edge, hub\)$"):
        parse({k: v for k, v in HUB.items() if k != "role"})


def test_missing_required_keys_are_each_named() -> None:
    with pytest.raises(ConfigError) as err:
        parse({"role": "edge"})
    lines = str(err.value).splitlines()
    for key in ("cloud", "region", "regime", "cluster", "hubStack"):
        assert f"obsfleet:{key}: required key is missing" in lines
    assert "obsfleet:org: required key is missing (set it once, in the config block of Pulumi.yaml)" in lines


# --- no silent misconfiguration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({**HUB, "grafanaAdminPassword": "hunter2"}, "grafanaAdminPassword"),
        ({**EDGE, "kubeconfig": "apiVersion: v1"}, "kubeconfig"),
        ({**HUB, "alerting": {"receivers": [{"name": "hook", "type": "webhook", "secret": "hookUrl"}]},
          "hookUrl": "https://hooks.example.com/x"}, "hookUrl"),
    ],
)
def test_a_secret_in_plain_text_is_refused_with_the_command_that_sets_it(values: dict[str, Any], key: str) -> None:
    message = rf"^obsfleet:{key}: a secret in plain text; .*`pulumi config set --secret obsfleet:{key}`$"
    with pytest.raises(ConfigError, match=message):
        parse(values)
    with pytest.raises(ConfigError, match=message):
        from_engine(engine_config(values))
    assert parse(values, secret_keys=frozenset({key})).cluster == values["cluster"]


def test_a_secret_in_plain_text_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as err:
        parse({**HUB, "grafanaAdminPassword": "hunter2-do-not-print"})
    assert "hunter2" not in str(err.value)


def test_a_receiver_secret_may_not_reuse_a_config_key() -> None:
    receivers = [{"name": "hook", "type": "webhook", "secret": "domain"}]
    with pytest.raises(ConfigError, match=r"^obsfleet:alerting\.receivers\[0\]\.secret: 'domain' is a config key"):
        parse({**HUB, "alerting": {"receivers": receivers}})


def test_no_target_cluster_is_refused() -> None:
    untargeted = {k: v for k, v in EDGE.items() if k != "kubernetes"}
    with pytest.raises(ConfigError, match=r"^obsfleet:kubernetes\.context: no target cluster: .*"
                       r"`pulumi config set --secret obsfleet:kubeconfig`$"):
        from_engine(engine_config({**untargeted, "kubernetes": {"namespace": "obs"}}))
    with pytest.raises(ConfigError, match=r"^obsfleet:kubernetes\.context: '': String should have at least 1 character$"):
        from_engine(engine_config({**untargeted, "kubernetes": {"context": ""}}))
    # A secret kubeconfig names the cluster (its current context).
    raw = engine_config(untargeted) | {"obsfleet:kubeconfig": "apiVersion: v1"}
    assert from_engine(raw, frozenset({"obsfleet:kubeconfig"})).cluster == "edge-eu"


@pytest.mark.parametrize("namespace", ["obsflet", "obsfleets", "obsfleeet", "osbfleet", "Obsfleet", "obsfleat"])
def test_a_namespace_one_edit_from_obsfleet_is_refused_with_a_suggestion(namespace: str) -> None:
    raw = engine_config(EDGE) | {f"{namespace}:bufferHours": "12"}
    with pytest.raises(ConfigError, match=rf"^{namespace}:bufferHours: unknown namespace '{namespace}': "
                       r"did you mean obsfleet:bufferHours\?$"):
        from_engine(raw)


@pytest.mark.parametrize("namespace", ["aws", "gcp", "kubernetes", "fleet", "obs"])
def test_other_namespaces_are_the_providers_business(namespace: str) -> None:
    assert from_engine(engine_config(EDGE) | {f"{namespace}:region": "x"}).cluster == "edge-eu"


def test_retention_must_cover_the_longest_replay_window() -> None:
    edges = [{"name": "edge-eu", "region": "eu-west-1"}, {"name": "edge-b", "region": "eu-west-1", "bufferHours": 48}]
    with pytest.raises(ConfigError, match=r"^obsfleet:retention\.metrics: 1 days \(24 h\) is shorter than the 48 h "
                       r"replay window of edges\[1\]\.bufferHours; keep metrics at least 2 days$"):
        parse({**HUB, "edges": edges, "retention": {"metrics": 1}})
    assert parse({**HUB, "edges": edges, "retention": {"metrics": 2}}).retention.metrics == 2


def test_every_pattern_is_said_in_words() -> None:
    used = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if "pattern" in node:
                used.add(node["pattern"])
            for child in node.values():
                collect(child)
        elif isinstance(node, list):
            for child in node:
                collect(child)

    for model in (HubSettings, EdgeSettings):
        collect(model.model_json_schema())
    assert used and used <= set(PATTERN_WORDS)


def test_stack_references_are_built_from_the_one_org() -> None:
    edge = parse({**EDGE, "org": "example-corp"})
    assert edge.stack_ref(edge.hub_stack) == "example-corp/obsfleet/hub"
    hub = parse({**HUB, "edges": [{"name": "edge-eu", "region": "eu-west-1", "stack": "edge-eu-prod"}]})
    assert isinstance(hub, HubSettings)
    assert [hub.stack_ref(e.stack_name) for e in hub.edges] == ["acme/obsfleet/edge-eu-prod"]
