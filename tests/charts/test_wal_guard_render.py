"""The WAL guard as kube-prometheus-stack renders it: on every Prometheus-agent edge the
PrometheusAgent carries the init container, mounting the volume prometheus-operator creates for
that resource's WAL claim, where the operator mounts it, and checking the agent's storage path."""

from __future__ import annotations

import pytest

from components import edge_wal_guard
from components.charts import KUBE_PROMETHEUS_STACK
from tests.charts.fleet import all_releases, rendered
from tests.charts.render import Release

AGENT_EDGES = [r for r in all_releases() if r.chart == KUBE_PROMETHEUS_STACK.name and r.stack.startswith("edge")]


def _agents(release: Release) -> list[dict]:
    result = rendered(release.stack)
    if release in result.absent:
        pytest.skip(result.absent[release])
    assert release not in result.errors, result.errors[release]
    return [o for o in result.objects[release] if o["kind"] == "PrometheusAgent"]


@pytest.mark.parametrize("release", AGENT_EDGES, ids=[r.id for r in AGENT_EDGES])
def test_the_guard_mounts_the_agents_wal_volume(release: Release) -> None:
    agents = _agents(release)
    if not agents:
        pytest.skip("no Prometheus agent on this edge (vmagent)")
    [agent] = agents
    [guard] = [c for c in agent["spec"]["initContainers"] if c["name"] == edge_wal_guard.NAME]
    [mount] = guard["volumeMounts"]
    # prometheus-operator: volume `prom-agent-<name>-db`, mounted at /prometheus from sub-path
    # prometheus-db, the agent's --storage.agent.path.
    assert mount == {"name": f"prom-agent-{agent['metadata']['name']}-db", "mountPath": "/prometheus", "subPath": "prometheus-db"}
    assert guard["command"] == edge_wal_guard.command("/prometheus")
    assert "volumeClaimTemplate" in agent["spec"]["storage"]
