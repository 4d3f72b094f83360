"""Every Helm release of every stack, rendered with its real pinned chart and the values the
program passes, then validated (tests/charts/checks.py). Without helm or a chart a case skips."""

from __future__ import annotations

import base64

import pytest
import yaml

from tests.charts import checks
from tests.charts.fleet import Rendered, all_releases, rendered
from review.engine import SECRET
from tests.charts.render import Release

RELEASES = all_releases()


def _objects(release: Release) -> tuple[Rendered, list[dict]]:
    result = rendered(release.stack)
    if release in result.absent:
        pytest.skip(result.absent[release])
    if release in result.errors:
        pytest.skip("did not render (test_renders reports why)")
    return result, result.objects[release]


@pytest.mark.parametrize("release", RELEASES, ids=[r.id for r in RELEASES])
def test_renders(release: Release) -> None:
    result = rendered(release.stack)
    if release in result.absent:
        pytest.skip(result.absent[release])
    assert release not in result.errors, result.errors.get(release)
    assert result.objects[release], "renders nothing"


@pytest.mark.parametrize("release", RELEASES, ids=[r.id for r in RELEASES])
def test_objects_match_their_schemas(release: Release) -> None:
    result, objects = _objects(release)
    assert checks.schema_problems(objects, result.crds()) == []


@pytest.mark.parametrize("release", RELEASES, ids=[r.id for r in RELEASES])
def test_every_mounted_secret_and_config_map_exists(release: Release) -> None:
    result, objects = _objects(release)
    assert checks.reference_problems(objects, release.namespace, result.present()) == []


@pytest.mark.parametrize("release", RELEASES, ids=[r.id for r in RELEASES])
def test_every_service_host_in_the_values_is_a_service_of_the_stack(release: Release) -> None:
    result, _ = _objects(release)
    problems = checks.service_host_problems(release.all_values(), result.present())
    if problems and (result.absent or result.errors):
        unrendered = ", ".join(sorted(r.chart for r in [*result.absent, *result.errors]))
        pytest.skip(f"{len(problems)} host(s) unresolved while {unrendered} did not render here")
    assert problems == []


@pytest.mark.parametrize("release", RELEASES, ids=[r.id for r in RELEASES])
def test_prometheus_rules_pass_promtool(release: Release) -> None:
    _, objects = _objects(release)
    if checks.promtool() is None:
        pytest.skip("promtool not installed (tests/run.sh installs the Debian prometheus package)")
    assert checks.rule_problems(objects) == []


@pytest.mark.parametrize("release", RELEASES, ids=[r.id for r in RELEASES])
def test_collector_pipelines_are_complete(release: Release) -> None:
    _, objects = _objects(release)
    problems = [p for where, config in checks.collector_configs(objects) for p in checks.pipeline_problems(where, config)]
    assert problems == []


STACKS = sorted({r.stack for r in RELEASES})


def _unmasked(obj: dict) -> dict:
    """`obj` without the fields the offline preview masks (a secret's value is not known there)."""
    return {key: value for key, value in obj.items() if value != SECRET}


@pytest.mark.parametrize("stack", STACKS)
def test_objects_the_stack_declares_match_their_schemas(stack: str) -> None:
    """What the program declares itself (the front door, policies, Secrets, the Kafka resources)
    against the Kubernetes schemas and the CRDs its charts ship."""
    result = rendered(stack)
    problems = checks.schema_problems([_unmasked(o) for o in result.declared_objects], result.crds())
    if any("no chart ships its CRD" in p for p in problems) and result.absent:
        pytest.skip(f"a CRD is missing while {', '.join(sorted(r.chart for r in result.absent))} did not render here")
    assert problems == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_network_policy_selector_selects_a_pod_the_stack_runs(stack: str) -> None:
    result = rendered(stack)
    if not any(o.get("kind") == "NetworkPolicy" for o in result.everything()):
        pytest.skip("declares and renders no NetworkPolicy")
    problems = result.selector_problems()
    if problems and (result.absent or result.errors):
        unrendered = ", ".join(sorted(r.chart for r in [*result.absent, *result.errors]))
        pytest.skip(f"{len(problems)} selector(s) unmatched while {unrendered} did not render here: {problems}")
    assert problems == []


def _of_chart(chart: str) -> list[Release]:
    return [r for r in RELEASES if r.chart == chart]


TEMPO_RELEASES = _of_chart("tempo")
JAEGER_AND_OTLP_GRPC_PORTS = {4317, 6831, 6832, 14250, 14268}


@pytest.mark.parametrize("release", TEMPO_RELEASES, ids=[r.id for r in TEMPO_RELEASES])
def test_tempo_runs_and_exposes_only_otlp_http(release: Release) -> None:
    _, objects = _objects(release)
    [config_map] = [o for o in objects if o["kind"] == "ConfigMap" and "tempo.yaml" in o.get("data", {})]
    config = yaml.safe_load(config_map["data"]["tempo.yaml"])
    receivers = config["distributor"]["receivers"]
    assert list(receivers) == ["otlp"] and list(receivers["otlp"]["protocols"]) == ["http"]
    assert config["storage"]["trace"]["backend"] in ("s3", "gcs") and config["multitenancy_enabled"] is True
    ports = {p["targetPort"] for o in objects if o["kind"] == "Service" for p in o["spec"]["ports"]}
    assert 4318 in ports and not ports & JAEGER_AND_OTLP_GRPC_PORTS


CILIUM_RELEASES = _of_chart("cilium")


def _etcd_endpoints(encoded: str) -> list[str]:
    return yaml.safe_load(base64.b64decode(encoded))["endpoints"]


@pytest.mark.parametrize("release", CILIUM_RELEASES, ids=[r.id for r in CILIUM_RELEASES])
def test_cluster_mesh_connects_to_the_configured_peers(release: Release) -> None:
    _, objects = _objects(release)
    peers = release.values["clustermesh"]["config"]["clusters"]
    assert peers, "a mesh member has peers"
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    # KVStoreMesh (the chart's default) connects to the peers; the agents read its local cache.
    remote = by_name[("Secret", "cilium-kvstoremesh")]["data"]
    local = by_name[("Secret", "cilium-clustermesh")]["data"]
    for peer in peers:
        assert _etcd_endpoints(remote[peer["name"]]) == [f"https://{peer['address']}:{peer['port']}"]
        assert _etcd_endpoints(local[peer["name"]]) == ["https://clustermesh-apiserver.kube-system.svc:2379"]
    users = yaml.safe_load(by_name[("ConfigMap", "clustermesh-remote-users")]["data"]["users.yaml"])
    assert [u["name"] for u in users["users"]] == [f"remote-{p['name']}" for p in peers]
