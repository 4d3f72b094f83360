"""The traces' own Kafka as it would run: the Strimzi operator chart renders and reconciles the hub's
namespace, the Kafka resources the hub declares match the CRDs that chart ships, and the rendered
tempo-distributed writes to that Kafka with exactly the pods its NetworkPolicy admits."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import yaml

from components.charts import STRIMZI_KAFKA_OPERATOR, TEMPO_DISTRIBUTED
from tests.charts import checks
from tests.charts.fleet import Rendered, all_releases, rendered
from tests.charts.render import Release, render

WORKLOADS = ("Deployment", "StatefulSet")
KAFKA_CLIENTS = {"distributor", "block-builder", "live-store"}
"""Tempo's producers and consumers of the ingest topic."""

HUBS = sorted({r.stack for r in all_releases() if r.chart == STRIMZI_KAFKA_OPERATOR.name})


def _rendered(stack: str, chart: str) -> tuple[Rendered, Release, list[dict[str, Any]]]:
    [release] = [r for r in all_releases() if r.stack == stack and r.chart == chart]
    result = rendered(stack)
    if release in result.absent:
        pytest.skip(result.absent[release])
    assert release not in result.errors, result.errors[release]
    return result, release, result.objects[release]


def _all_declared(result: Rendered, kind: str) -> list[dict[str, Any]]:
    return [o for o in result.declared_objects if o.get("kind") == kind and str(o.get("apiVersion")).startswith("kafka.strimzi.io/")]


def _declared(result: Rendered, kind: str) -> dict[str, Any]:
    [obj] = _all_declared(result, kind)
    return obj


def test_every_mimir_hub_without_an_external_kafka_runs_its_own() -> None:
    assert HUBS, "no stack of the chart tests declares the traces' own Kafka"
    for release in all_releases():
        if release.chart == TEMPO_DISTRIBUTED.name:
            tempo_creates_its_topic = release.values["ingest"]["kafka"].get("auto_create_topic_enabled", True)
            assert (release.stack in HUBS) != tempo_creates_its_topic, release.stack


@pytest.mark.parametrize("stack", HUBS)
def test_the_operator_watches_the_namespace_of_the_kafka_resources(stack: str) -> None:
    result, release, objects = _rendered(stack, STRIMZI_KAFKA_OPERATOR.name)
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    # Unset watchNamespaces: the operator's own namespace, the release's.
    assert env["STRIMZI_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert deployment["metadata"].get("namespace", release.namespace) == release.namespace
    # The listener's peers become a NetworkPolicy only while the operator generates them (its default).
    assert env.get("STRIMZI_NETWORK_POLICY_GENERATION", {"value": "true"})["value"] == "true"
    for kind in ("Kafka", "KafkaNodePool", "KafkaTopic"):
        assert {o["metadata"]["namespace"] for o in _all_declared(result, kind)} == {release.namespace}
        assert ("kafka.strimzi.io/v1", kind) in result.crds(), f"the chart ships no v1 CRD for {kind}"


@pytest.mark.parametrize("stack", HUBS)
def test_the_operator_runs_the_pinned_kafka_version(stack: str) -> None:
    result, _, objects = _rendered(stack, STRIMZI_KAFKA_OPERATOR.name)
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    images = next(e["value"] for e in container["env"] if e["name"] == "STRIMZI_KAFKA_IMAGES")
    supported = {line.split("=", 1)[0].strip() for line in images.splitlines() if "=" in line}
    version = _declared(result, "Kafka")["spec"]["kafka"]["version"]
    assert version in supported, f"the operator runs {sorted(supported)}"


@pytest.mark.parametrize("stack", HUBS)
def test_tempo_writes_to_the_declared_kafka_with_one_consumer_per_partition(stack: str) -> None:
    result, release, objects = _rendered(stack, TEMPO_DISTRIBUTED.name)
    [config_map] = [o for o in objects if o["kind"] == "ConfigMap" and "tempo.yaml" in (o.get("data") or {})]
    kafka = yaml.safe_load(config_map["data"]["tempo.yaml"])["ingest"]["kafka"]
    cluster, topic = _declared(result, "Kafka"), _declared(result, "KafkaTopic")
    assert kafka["address"] == f"{cluster['metadata']['name']}-kafka-bootstrap.{release.namespace}.svc.cluster.local:9092"
    assert kafka["topic"] == topic["metadata"]["name"] and kafka["auto_create_topic_enabled"] is False
    replicas = {
        o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component"): o["spec"]["replicas"]
        for o in objects if o["kind"] == "StatefulSet"
    }
    assert replicas["block-builder"] == replicas["live-store"] == topic["spec"]["partitions"]


def _peers(result: Rendered) -> list[dict[str, str]]:
    """The label selectors of the pods the Kafka listener's NetworkPolicy admits."""
    [listener] = _declared(result, "Kafka")["spec"]["kafka"]["listeners"]
    return [peer["podSelector"]["matchLabels"] for peer in listener["networkPolicyPeers"]]


def _admitted(objects: list[dict[str, Any]], peers: list[dict[str, str]]) -> set[tuple[str, str]]:
    """(name, component label) of the workloads whose pods the peers select."""
    return {
        (o["metadata"]["name"], o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component"))
        for o in objects
        if o["kind"] in WORKLOADS
        and any(p.items() <= (o["spec"]["template"]["metadata"].get("labels") or {}).items() for p in peers)
    }


@pytest.mark.parametrize("stack", HUBS)
def test_only_tempos_kafka_clients_match_the_listeners_network_policy_peers(stack: str) -> None:
    result, _, tempo = _rendered(stack, TEMPO_DISTRIBUTED.name)
    everyone = [o for objects in result.objects.values() for o in objects]
    admitted = _admitted(everyone, _peers(result))
    assert admitted == _admitted(tempo, _peers(result)), "no pod of another release"
    assert {component for _, component in admitted} == KAFKA_CLIENTS


@pytest.mark.parametrize("stack", HUBS)
def test_the_brokers_spread_by_labels_their_pods_carry(stack: str) -> None:
    result, _, _ = _rendered(stack, STRIMZI_KAFKA_OPERATOR.name)
    pools = _all_declared(result, "KafkaNodePool")
    assert {p["metadata"]["name"] for p in pools} == {"controller", "broker"}
    for pool in pools:
        pod = pool["spec"]["template"]["pod"]
        for constraint in pod["topologySpreadConstraints"]:
            assert constraint["labelSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        assert checks.schema_problems([pool], result.crds()) == []


def test_a_consumer_without_the_label_would_be_fenced_out() -> None:
    """The check above sees a change of the values: block-builders rendered without the client label
    no longer match the listener's peers."""
    result, release, _ = _rendered(HUBS[0], TEMPO_DISTRIBUTED.name)
    values = release.values
    del values["blockBuilder"]["podLabels"]
    objects = render(dataclasses.replace(release, values_json=json.dumps(values, sort_keys=True)))
    assert {component for _, component in _admitted(objects, _peers(result))} == KAFKA_CLIENTS - {"block-builder"}
