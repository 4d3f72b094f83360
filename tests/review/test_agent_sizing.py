"""The report's per-edge agent sizing: both engines for every edge, the one it runs marked."""

from __future__ import annotations

from typing import Any

from components import edge_sizing, vmagent_sizing
from review import agent_sizing, report
from review.hub_facts import edge_sizing_row
from review.model import StackOutcome
from tests.fixture_fleet import load, names
from tests.components.settings_samples import edge_settings


def test_both_engines_are_sized_from_the_edges_settings() -> None:
    settings = edge_settings(seriesEstimate=200_000, agent="vmagent")
    sized = agent_sizing.engines(settings)
    assert sized is not None and sized["runs"] == "vmagent"
    prometheus, vmagent = edge_sizing.for_settings(settings), vmagent_sizing.for_settings(settings)
    assert sized["prometheus"]["memoryRequestMiB"] == prometheus.resources.memory_request_mib
    assert sized["prometheus"]["volumeGiB"] == prometheus.wal_volume_gib
    assert sized["vmagent"] == {
        "cpuMillicores": vmagent.resources.cpu_request_millicores,
        "memoryRequestMiB": vmagent.resources.memory_request_mib,
        "memoryLimitMiB": vmagent.resources.memory_limit_mib,
        "volumeGiB": vmagent.volume_gib,
    }


def test_the_report_shows_every_edge_and_what_switching_saves() -> None:
    outcomes = [StackOutcome(load(name)) for name in names()]
    document = report.build(outcomes)
    edges = {e["edge"]: e["agents"] for e in document["edgeAgents"]}
    assert set(edges) == {o.name for o in outcomes if not o.config.is_hub}
    assert all(a["runs"] == "prometheus" for a in edges.values())
    text = report.markdown(document)
    section = text.split("## Edge metrics agents", 1)[1]
    for name, agents in edges.items():
        row: Any = next(line for line in section.splitlines() if line.startswith(f"| `{name}` |"))
        saved = agents["vmagent"]["memoryRequestMiB"]
        assert f"vmagent: {saved} MiB ({saved / agents['prometheus']['memoryRequestMiB']:.2f}x)" in row


def test_the_hubs_edge_row_sizes_the_agent_the_edge_runs() -> None:
    entry = {"seriesEstimate": 200_000, "bufferHours": 4.0}
    for agent in ("prometheus", "vmagent"):
        settings = edge_settings(seriesEstimate=200_000, agent=agent)
        row = edge_sizing_row("edge-x", entry, settings)
        assert row["agent"] == agent
        if agent == "vmagent":
            vm = vmagent_sizing.for_settings(settings)
            assert row["queue"] == {"queues": vm.queues}
            assert (row["walVolumeGiB"], row["memoryRequestMiB"]) == (vm.volume_gib, vm.resources.memory_request_mib)
        else:
            sized = edge_sizing.for_settings(settings)
            assert row["queue"]["maxShards"] == sized.queue.max_shards
            assert row["memoryRequestMiB"] == sized.resources.memory_request_mib
