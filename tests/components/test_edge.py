"""EdgeAgent in the previewed fleet: what each edge declares, what it reads from its hub, and how it refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components import pki
from components.charts import CILIUM, KUBE_PROMETHEUS_STACK, OPENTELEMETRY_COLLECTOR
from components.edge import HUB_LINK_TYPE, REQUIRED_HUB_OUTPUTS, TYPE
from components.edge_sizing import for_settings
from components.settings import EdgeSettings
from review import engine, stacks
from review.cli import main
from tests import fixture_fleet
from tests.fixture_fleet import by_name, set_config

EDGES = {"edge-eu": "hub", "edge-eu-north": "hub", "edge-us-west": "hub-us", "edge-ap-southeast": "hub-ap"}
MESH_MEMBERS = {"edge-eu", "edge-eu-north"}
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"


def by_urn(result: engine.PreviewResult) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in result.resources}


def _settings(result: engine.PreviewResult) -> EdgeSettings:
    assert isinstance(result.config.settings, EdgeSettings)
    return result.config.settings


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_edge_previews_against_its_hub(fleet: dict[str, engine.PreviewResult], edge: str) -> None:
    hub = fleet[EDGES[edge]]
    outputs = dict(fleet[edge].outputs)
    request = outputs.pop("certificateRequest")
    assert outputs == {
        "cluster": edge,
        "regime": hub.outputs["regime"],
        "hubStack": f"acme/obsfleet/{EDGES[edge]}",
        "remoteWriteUrl": hub.outputs["remoteWriteUrl"],
        "onboarding": "ready",
    }
    assert request.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert fleet[edge].secret_outputs == frozenset(), "nothing the edge exports is secret"
    assert set(REQUIRED_HUB_OUTPUTS) <= set(hub.outputs)


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_edge_declares_its_children_under_the_component(fleet: dict[str, engine.PreviewResult], edge: str) -> None:
    resources = by_name(fleet[edge])
    agent = resources[edge]
    assert agent["type"] == TYPE
    expected = {
        f"{edge}-namespace": "kubernetes:core/v1:Namespace",
        f"{edge}-identity": pki.EDGE_TYPE,
        f"{edge}-metrics": RELEASE,
        f"{edge}-collector": RELEASE,
    }
    if edge in MESH_MEMBERS:
        expected[f"{edge}-mesh"] = RELEASE
    children = {name: r["type"] for name, r in resources.items() if r.get("parent") == agent["urn"]}
    assert children == expected
    # The program reads the hub before it declares the agent: the reference sits in a HubLink.
    [hub] = [r for r in fleet[edge].resources if r["type"] == "pulumi:pulumi:StackReference"]
    link = by_urn(fleet[edge])[hub["parent"]]
    assert link["type"] == HUB_LINK_TYPE and link["urn"].endswith(f"::{edge}-link")
    kubernetes = resources["boundary-kubernetes"]["urn"]
    for name, kind in expected.items():
        if kind == RELEASE:
            assert resources[name]["provider"].startswith(kubernetes + "::"), "releases use the boundary's cluster"


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_releases_pin_their_charts(fleet: dict[str, engine.PreviewResult], edge: str) -> None:
    resources = by_name(fleet[edge])
    pinned = {f"{edge}-metrics": KUBE_PROMETHEUS_STACK, f"{edge}-collector": OPENTELEMETRY_COLLECTOR, f"{edge}-mesh": CILIUM}
    for name, chart in pinned.items():
        if name in resources:
            inputs = resources[name]["inputs"]
            assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (chart.name, chart.version, chart.repo)
    assert resources[f"{edge}-metrics"]["inputs"]["namespace"] == "observability"
    if edge in MESH_MEMBERS:
        assert resources[f"{edge}-mesh"]["inputs"]["namespace"] == "kube-system"


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_releases_wait_for_what_their_pods_and_objects_need(fleet: dict[str, engine.PreviewResult], edge: str) -> None:
    resources = by_name(fleet[edge])

    def waits_for(name: str, other: str) -> bool:
        return other in resources and resources[other]["urn"] in resources[name].get("dependencies", [])

    # The collector's PodMonitor needs the monitoring.coreos.com CRDs that the metrics release installs.
    assert waits_for(f"{edge}-collector", f"{edge}-metrics")
    # A mesh member's CNI is the mesh release: the agent's pods get no network before it runs.
    assert waits_for(f"{edge}-metrics", f"{edge}-mesh") == (edge in MESH_MEMBERS)


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_credentials_are_a_secret_in_a_tls_secret_only(fleet: dict[str, engine.PreviewResult], edge: str) -> None:
    result = fleet[edge]
    [secret] = [r for r in result.resources if r["type"] == SECRET]
    assert secret["parent"] == by_name(result)[f"{edge}-identity"]["urn"]
    assert secret["inputs"]["type"] == "kubernetes.io/tls"
    assert secret["inputs"]["stringData"] == engine.SECRET, "the key is a Pulumi secret in the export"
    data = result.state[secret["urn"]]["stringData"]
    assert set(data) == {pki.TLS_CERT, pki.TLS_KEY, pki.CA_CERT}
    assert data[pki.TLS_KEY] == result.state[by_name(result)[f"{edge}-identity-key"]["urn"]]["privateKeyPem"], "its own key"
    assert data[pki.TLS_CERT] == fleet[EDGES[edge]].outputs["edgeCertificates"][edge]
    assert data[pki.CA_CERT] == fleet[EDGES[edge]].outputs["caCert"]
    name = secret["inputs"]["metadata"]["name"]
    for release in ("metrics", "collector"):
        assert name in json.dumps(by_name(result)[f"{edge}-{release}"]["inputs"]["values"]), "values refer to it by name"


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_no_private_key_in_any_helm_value_or_the_export(fleet: dict[str, engine.PreviewResult], edge: str) -> None:
    result = fleet[edge]
    for release in (r for r in result.resources if r["type"] == RELEASE):
        values = release["inputs"]["values"]
        assert isinstance(values, dict), "values stay readable (not secret) for review"
        assert "PRIVATE KEY" not in json.dumps(values) and "BEGIN CERTIFICATE" not in json.dumps(values)
    assert "PRIVATE KEY" not in json.dumps(result.export())


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_agent_values_follow_the_sizing_model(fleet: dict[str, engine.PreviewResult], edge: str) -> None:
    result = fleet[edge]
    settings, hub = _settings(result), fleet[EDGES[edge]]
    sizing = for_settings(settings)
    spec = by_name(result)[f"{edge}-metrics"]["inputs"]["values"]["prometheus"]["prometheusSpec"]
    [remote] = spec["remoteWrite"]
    assert remote["url"] == hub.outputs["remoteWriteUrl"]
    assert remote["queueConfig"] == sizing.queue.operator()
    assert remote["headers"] == {"X-Scope-OrgID": edge}
    assert spec["externalLabels"] == {"cluster": edge, "region": settings.region, "regime": settings.regime.value}
    assert spec["additionalArgs"] == [
        {"name": "storage.agent.retention.max-time", "value": sizing.wal_retention},
        {"name": "storage.agent.wal-truncate-frequency", "value": sizing.wal_truncate_frequency},
    ]
    assert spec["resources"] == sizing.resources.kubernetes()
    collector = by_name(result)[f"{edge}-collector"]["inputs"]["values"]["alternateConfig"]["exporters"]
    assert collector["otlphttp/tempo"]["endpoint"] == hub.outputs["otlpEndpoint"]
    assert collector["otlphttp/loki"]["endpoint"] == hub.outputs["lokiPushUrl"]


def test_sizes_differ_per_edge_config(fleet: dict[str, engine.PreviewResult]) -> None:
    def spec(edge: str) -> dict[str, Any]:
        return by_name(fleet[edge])[f"{edge}-metrics"]["inputs"]["values"]["prometheus"]["prometheusSpec"]

    assert spec("edge-eu-north")["additionalArgs"][0]["value"] == "6h"  # bufferHours: 6
    assert spec("edge-us-west")["scrapeInterval"] == "15s"
    assert spec("edge-us-west")["resources"]["requests"]["memory"] == "534Mi"  # 120K series
    assert spec("edge-eu")["resources"]["requests"]["memory"] == "370Mi"  # 80K series


def _preview_fails(stacks_dir: Path, stack: str, capsys: pytest.CaptureFixture[str], code: int = 2) -> str:
    assert main(["preview", "--stack", stack, "--stacks-dir", str(stacks_dir), "--out", str(stacks_dir / "out"), "--quiet"]) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_regime_mismatch_fails_the_program_and_declares_nothing(
    stacks_dir: Path, capsys: pytest.CaptureFixture[str], fleet: dict[str, engine.PreviewResult]
) -> None:
    set_config(stacks_dir, "edge-eu", hubStack="hub-us")
    # The program refuses (a bad-input error, exit 2 on its own), and the pack's data-residency-flow
    # also flags the cross-regime StackReference it declared: the review ranks that mandatory
    # violation first, so the exit code is 1.
    err = _preview_fails(stacks_dir, "edge-eu", capsys, code=1)
    assert "Pulumi.edge-eu.yaml: obsfleet:hubStack: edge-eu (gdpr) cannot ship to hub-us (ccpa): name a gdpr hub" in err
    # Every resource waits for the check: only the boundary's providers and the reference were declared.
    with pytest.raises(engine.ProgramError) as failed:
        hub_us = fleet["hub-us"]
        engine.preview(stacks.load("edge-eu", stacks_dir), {"hub-us": (hub_us.outputs, hub_us.secret_outputs)})
    declared = {r["type"] for r in failed.value.resources if r["custom"]}
    assert declared <= {"pulumi:providers:aws", "pulumi:providers:kubernetes", "pulumi:providers:tls", "pulumi:pulumi:StackReference"}


def test_edge_missing_from_its_hub_waits_declaring_only_its_identity(stacks_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_config(stacks_dir, "hub", edges=[{"name": "edge-eu-north", "region": "eu-north-1", "seriesEstimate": 40000, "bufferHours": 6}])
    out = stacks_dir / "out"
    assert main(["preview", "--stack", "edge-eu", "--stacks-dir", str(stacks_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    waiting = (
        "waiting for a certificate: hub stack hub has none for edge-eu; list edge-eu in hub's obsfleet:edges, "
        "run `pulumi up` on hub, then on this stack again"
    )
    assert waiting in printed
    assert "1 waiting for a certificate" in printed
    report = json.loads((out / "report-edge-eu.json").read_text())
    [edge] = [s for s in report["stacks"] if s["name"] == "edge-eu"]
    assert (edge["status"], edge["waiting"], edge["error"]) == ("waiting", waiting, None)
    assert f"> **waiting:** {waiting}" in (out / "report-edge-eu.md").read_text()
    export = json.loads((out / "edge-eu.json").read_text())["deployment"]["resources"]
    declared = sorted(r["type"] for r in export if r["custom"] and not r["type"].startswith("pulumi:providers:"))
    assert declared == ["pulumi:pulumi:StackReference", "tls:index/certRequest:CertRequest", "tls:index/privateKey:PrivateKey"]
    outputs = export[0]["outputs"]
    assert outputs["onboarding"] == waiting and "remoteWriteUrl" not in outputs


def test_a_hub_without_the_edge_contract_is_named(fleet: dict[str, engine.PreviewResult]) -> None:
    hub = fleet["hub"]
    outputs = {k: v for k, v in hub.outputs.items() if k not in ("caCert", "lokiPushUrl")}
    with pytest.raises(engine.ProgramError, match="stack hub exports no lokiPushUrl, caCert: update the hub before its edges"):
        engine.preview(fixture_fleet.load("edge-eu"), {"hub": (outputs, hub.secret_outputs)})


def test_an_edge_whose_facts_differ_from_its_hub_entry_refuses_to_deploy(
    stacks_dir: Path, fleet: dict[str, engine.PreviewResult]
) -> None:
    # The program's own check (at `pulumi up`, where no review compares the files): the hub's
    # `edges` output against the edge's config.
    set_config(stacks_dir, "edge-eu-north", bufferHours=12)
    hub = fleet["hub"]
    assert hub.outputs["edges"]["edge-eu-north"] == {"index": 1, "region": "eu-north-1", "seriesEstimate": 40000,
                                                     "bufferHours": 6.0, "agentReplicas": 1}
    with pytest.raises(engine.ProgramError, match=r"obsfleet:bufferHours=12 differs from Pulumi\.hub\.yaml "
                       r"obsfleet:edges\[1\]\.bufferHours=6: declare the same value in both files") as failed:
        engine.preview(stacks.load("edge-eu-north", stacks_dir), {"hub": (hub.outputs, hub.secret_outputs)})
    declared = {r["type"] for r in failed.value.resources if r["custom"]}
    assert "kubernetes:helm.sh/v3:Release" not in declared
