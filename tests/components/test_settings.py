"""Settings models: valid config parses, every bad value names its key path and what is allowed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.settings import ConfigError, EdgeSettings, HubSettings, Tier, from_engine, parse, required_secrets

HUB: dict[str, Any] = {
    "role": "hub",
    "cloud": "aws",
    "region": "eu-central-1",
    "regime": "gdpr",
    "cluster": "hub-eu",
    "domain": "obs.eu.example.com",
    "oidcProvider": {
        "arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC",
        "url": "https://oidc.eks.eu-central-1.amazonaws.com/id/ABC",
    },
    "edges": [{"name": "edge-eu", "region": "eu-west-1"}],
}
EDGE: dict[str, Any] = {
    "role": "edge",
    "cloud": "aws",
    "region": "eu-west-1",
    "regime": "gdpr",
    "cluster": "edge-eu",
    "hubStack": "acme/obsfleet/hub",
}


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
    raw = {f"obsfleet:{k}": v for k, v in EDGE.items()}
    engine = from_engine({**raw, "obsfleet:kubernetes": json.dumps({"storageClass": "premium-rwo.example.io"})})
    assert engine.kubernetes.storage_class == "premium-rwo.example.io"


@pytest.mark.parametrize(
    ("storage_class", "message"),
    [
        ("GP3", r"'GP3': String should match pattern"),
        ("gp3_encrypted", r"'gp3_encrypted': String should match pattern"),
        ("-", r"'-': String should match pattern"),  # the charts' "no dynamic provisioning", not a class
        ("", r"'': String should match pattern"),
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


def test_engine_strings_decode_like_yaml() -> None:
    raw = {f"obsfleet:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in EDGE.items()}
    raw |= {"obsfleet:bufferHours": "6", "obsfleet:seriesEstimate": "120000", "aws:region": "eu-west-1"}
    edge = from_engine(raw)
    assert isinstance(edge, EdgeSettings)
    assert edge.buffer_hours == 6.0 and edge.series_estimate == 120_000


def test_cluster_named_like_a_number_stays_a_string() -> None:
    raw = {f"obsfleet:{k}": v for k, v in EDGE.items()} | {"obsfleet:cluster": "1234"}
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
        ({"cluster": "Hub_EU"}, r"^obsfleet:cluster: 'Hub_EU': String should match pattern"),
        ({"edges": []}, r"^obsfleet:edges: \[\]: List should have at least 1 item"),
        ({"edges": [{"name": "edge-eu", "region": "eu-west-1"}, {"name": "edge-eu", "region": "eu-north-1"}]},
         r"^obsfleet:edges\[1\]\.name: duplicate 'edge-eu'$"),
        ({"edges": [{"name": "edge-eu", "region": "eu-west-1", "zone": "a"}]}, r"^obsfleet:edges\[0\]\.zone: unknown key$"),
        ({"edges": [{"name": "edge-eu", "region": "eu-west-1", "bufferHours": 100}]},
         r"^obsfleet:edges\[0\]\.bufferHours: 100: Input should be less than or equal to 72$"),
        ({"retention": {"metrics": -1}}, r"^obsfleet:retention\.metrics: -1: Input should be greater than 0$"),
        ({"retention": {"logs": "30"}}, r"^obsfleet:retention\.logs: '30': Input should be a valid integer$"),
        ({"domain": "not a domain"}, r"^obsfleet:domain: 'not a domain': String should match pattern"),
        ({"replicaRegion": "us-east-1"}, r"^obsfleet:replicaRegion: 'us-east-1' \(US\) is outside the gdpr boundary"),
        ({"replicaRegion": "eu-central-1"}, r"^obsfleet:replicaRegion: 'eu-central-1' is the hub's own region$"),
        ({"retentionDays": 3}, r"^obsfleet:retentionDays: unknown key$"),
        ({"hubStack": "acme/obsfleet/hub"}, r"^obsfleet:hubStack: unknown key$"),
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
    ],
)
def test_bad_hub_config(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse({**HUB, **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hubStack": "hub"}, r"^obsfleet:hubStack: 'hub': String should match pattern"),
        ({"bufferHours": 0}, r"^obsfleet:bufferHours: 0: Input should be greater than 0$"),
        ({"seriesEstimate": 1.5}, r"^obsfleet:seriesEstimate: 1\.5: Input should be a valid integer"),
        ({"queue": {"maxShards": 0}}, r"^obsfleet:queue\.maxShards: 0: Input should be greater than 0$"),
        ({"queue": {"batchSendDeadline": "5 seconds"}}, r"^obsfleet:queue\.batchSendDeadline: '5 seconds': String should match"),
        ({"clusterMesh": {"id": 300}}, r"^obsfleet:clusterMesh\.id: 300: Input should be less than or equal to 255$"),
        ({"edges": [{"name": "x", "region": "eu-west-1"}]}, r"^obsfleet:edges: unknown key$"),
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
