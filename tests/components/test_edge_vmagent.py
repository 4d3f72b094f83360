"""An edge with `agent: vmagent`: the victoria-metrics-agent release replaces the Prometheus agent,
kube-prometheus-stack keeps only its exporters, and every edge runs exactly one metrics agent."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from components.charts import KUBE_PROMETHEUS_STACK, VICTORIA_METRICS_AGENT
from components.settings import EdgeSettings
from components.values.edge_vmagent import TLS_DIR, TLS_VOLUME
from components.vmagent_sizing import for_settings
from review import engine, stacks
from review.cli import main
from tests.fixture_fleet import STACKS_DIR, by_name, edge_hubs, set_config

EDGE = "edge-eu"
EDGES = edge_hubs()
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def vm_edge(tmp_path_factory: pytest.TempPathFactory, fleet: dict[str, engine.PreviewResult]) -> engine.PreviewResult:
    """`edge-eu` switched to vmagent, previewed against the real hub preview."""
    stacks_dir = tmp_path_factory.mktemp("stacks")
    for path in STACKS_DIR.glob("Pulumi.*.yaml"):
        (stacks_dir / path.name).write_text(path.read_text())
    set_config(stacks_dir, EDGE, agent="vmagent")
    hub = fleet[EDGES[EDGE]]
    return engine.preview(stacks.load(EDGE, stacks_dir), {EDGES[EDGE]: (hub.outputs, hub.secret_outputs)})


def metrics_agents(result: engine.PreviewResult) -> list[str]:
    """The metrics agents an edge's releases run: a Prometheus that kube-prometheus-stack deploys
    (its chart default is on), and vmagent."""
    agents = []
    for release in (r for r in result.resources if r["type"] == RELEASE):
        chart, values = release["inputs"]["chart"], release["inputs"]["values"]
        if chart == KUBE_PROMETHEUS_STACK.name and values.get("prometheus", {}).get("enabled", True):
            agents.append("prometheus-agent" if values["prometheus"]["agentMode"] else "prometheus-server")
        if chart == VICTORIA_METRICS_AGENT.name:
            agents.append("vmagent")
    return agents


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_every_example_edge_runs_the_prometheus_agent_alone(fleet: dict[str, engine.PreviewResult], edge: str) -> None:
    assert metrics_agents(fleet[edge]) == ["prometheus-agent"]


def test_a_vmagent_edge_runs_vmagent_alone(vm_edge: engine.PreviewResult) -> None:
    assert metrics_agents(vm_edge) == ["vmagent"]
    resources = by_name(vm_edge)
    exporters = resources[f"{EDGE}-metrics"]["inputs"]["values"]
    assert exporters["prometheusOperator"] == {"enabled": False}
    assert exporters["kubeStateMetrics"] == {"enabled": True} and exporters["nodeExporter"] == {"enabled": True}
    # No PodMonitor that nothing reads: vmagent finds the collector itself.
    assert resources[f"{EDGE}-collector"]["inputs"]["values"]["podMonitor"] == {"enabled": False}


def test_the_vmagent_release_keeps_the_edge_contract(
    vm_edge: engine.PreviewResult, fleet: dict[str, engine.PreviewResult]
) -> None:
    resources = by_name(vm_edge)
    release = resources[f"{EDGE}-vmagent"]
    inputs = release["inputs"]
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        VICTORIA_METRICS_AGENT.name, VICTORIA_METRICS_AGENT.version, VICTORIA_METRICS_AGENT.repo
    )
    assert release["parent"] == resources[EDGE]["urn"]
    # It starts once the edge's certificate Secret exists.
    secret = next(r for r in vm_edge.resources if r["type"] == "kubernetes:core/v1:Secret")
    assert secret["urn"] in release["dependencies"]
    settings = vm_edge.config.settings
    assert isinstance(settings, EdgeSettings)
    sizing = for_settings(settings)
    values = inputs["values"]
    [remote] = values["remoteWrite"]
    assert remote["url"] == fleet[EDGES[EDGE]].outputs["remoteWriteUrl"]
    assert remote["headers"] == f"X-Scope-OrgID:{EDGE}"
    assert remote["tlsServerName"] == urlsplit(remote["url"]).hostname
    assert {remote[k] for k in ("tlsCAFile", "tlsCertFile", "tlsKeyFile")} == {
        f"{TLS_DIR}/ca.crt", f"{TLS_DIR}/tls.crt", f"{TLS_DIR}/tls.key"
    }
    # In whole MiB, never below the sized cap, as a string (Helm would render a number as `5.55e+08`).
    assert remote["maxDiskUsagePerURL"] == f"{-(-sizing.max_disk_usage_bytes // 2**20)}MiB"
    assert values["extraArgs"]["remoteWrite.label"] == [f"cluster={EDGE}", f"region={settings.region}", f"regime={settings.regime.value}"]
    assert values["extraArgs"]["remoteWrite.queues"] == sizing.queues
    assert values["persistentVolume"]["size"] == f"{sizing.volume_gib}Gi"
    assert values["resources"] == sizing.resources.kubernetes()
    # The edge's certificate comes from its TLS Secret by name, never inline.
    name = secret["inputs"]["metadata"]["name"]
    assert {"name": TLS_VOLUME, "secret": {"secretName": name, "defaultMode": 0o440}} in values["extraVolumes"]
    assert "PRIVATE KEY" not in json.dumps(values)


def test_queue_overrides_are_refused_with_vmagent(stacks_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_config(stacks_dir, EDGE, agent="vmagent", queue={"maxShards": 4})
    assert main(["preview", "--stack", EDGE, "--stacks-dir", str(stacks_dir), "--out", str(stacks_dir / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "obsfleet:queue: Prometheus remote-write queue_config, not used by agent 'vmagent'" in err
    assert len(err.strip().splitlines()) == 1
