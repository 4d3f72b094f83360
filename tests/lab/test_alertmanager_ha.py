"""Alertmanager HA lab: the hub's Alertmanager cluster, as rendered, sends one notification per
alert, and still delivers with a peer killed.

Two real `prometheus-alertmanager` peers run the rendered alertmanager.yaml (components/alerting.py,
a webhook receiver pointing at a loopback recorder) with the cluster settings the operator derives
from the rendered `alertmanagerSpec` (`cluster_flags`: one peer per replica, the peer timeout).
Like Prometheus, the lab posts every alert to every peer. Beside them runs a control pair with the
same config and no cluster: it sends every notification twice, which is what the clustering saves.
Each peer has its own external URL, which a notification carries: the lab knows who sent it, and
kills exactly that peer before the second alert.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

from components.alerting import alertmanager_config, render
from components.hub_plan import HubPlan
from components.meta_rules import fleet_group
from components.settings import HubSettings, Receiver
from components.values.hub_prometheus import prometheus_stack_values
from labkit.metrics import seconds
from tests.fixture_fleet import load
from tests.lab.processes import ALERTMANAGER, ALERTMANAGER_PACKAGE, Launcher, Prometheus, free_port, require_binary, wait_for
from tests.lab.webhook import WebhookRecorder

pytestmark = pytest.mark.lab

RECEIVER = Receiver(name="oncall", type="webhook", secret="oncallUrl")
DEDUP_MARGIN_SECONDS = 10.0
"""Past the peer timeout: a second peer that were going to notify would have done so by then."""


def rendered_spec(hub: HubSettings) -> dict[str, Any]:
    plan = HubPlan.of(hub)
    groups = [fleet_group([e.name for e in hub.edges], by_tenant=plan.mimir)]
    values = prometheus_stack_values(plan, groups, "am-config")
    return values["alertmanager"]["alertmanagerSpec"]


def cluster_flags(spec: dict[str, Any], listen: str, peers: list[str]) -> list[str]:
    """What prometheus-operator passes each replica: its cluster listener, every replica as a peer
    (itself included, as the operator lists the whole StatefulSet), the spec's peer timeout."""
    return [
        f"--cluster.listen-address={listen}",
        *[f"--cluster.peer={peer}" for peer in peers],
        f"--cluster.peer-timeout={spec['clusterPeerTimeout']}",
    ]


@dataclass
class Peer:
    process: Prometheus
    """An Alertmanager process (the lab's process wrapper)."""
    url: str

    def post(self, alert: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts", json.dumps([alert]).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/api/v2/status", timeout=5) as response:
            return json.loads(response.read())


def start_pair(launcher: Launcher, name: str, spec: dict[str, Any], config_file: str, clustered: bool) -> list[Peer]:
    listens = [f"127.0.0.1:{free_port()}" for _ in range(spec["replicas"])]
    peers = []
    for i, listen in enumerate(listens):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        cluster = cluster_flags(spec, listen, listens) if clustered else ["--cluster.listen-address="]
        process = launcher.start_alertmanager(
            f"{name}-{i}",
            f"--config.file={config_file}",
            f"--storage.path={name}-{i}-data",
            f"--web.external-url={url}",
            *cluster,
            port=port,
        )
        peers.append(Peer(process, url))
    for peer in peers:
        peer.process.wait_ready_http()
    return peers


def alert(name: str) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {
        "labels": {"alertname": name, "cluster": "edge-lab", "severity": "critical"},
        "annotations": {"summary": "lab"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=30)).isoformat(),
    }


def notifications(recorder: WebhookRecorder, path: str, name: str) -> list[dict[str, Any]]:
    return [n for n in recorder.received(path) if n["groupLabels"].get("alertname") == name]


@dataclass(frozen=True)
class Outcome:
    clustered_first: list[dict[str, Any]]
    solo_first: list[dict[str, Any]]
    after_kill: list[dict[str, Any]]
    killed_url: str
    replicas: int


@pytest.fixture(scope="module")
def outcome(module_launcher: Launcher) -> Iterator[Outcome]:
    require_binary(ALERTMANAGER, ALERTMANAGER_PACKAGE)
    hub = load("hub").settings
    assert isinstance(hub, HubSettings)
    spec = rendered_spec(hub)
    route = alertmanager_config([RECEIVER], {RECEIVER.secret: "http://unused"})["route"]
    notify_within = seconds(route["group_wait"]) + seconds(spec["clusterPeerTimeout"]) + 30
    workdir = module_launcher.workdir
    with WebhookRecorder() as recorder:
        for pair in ("clustered", "solo"):
            config = alertmanager_config([RECEIVER], {RECEIVER.secret: f"{recorder.url}/{pair}"})
            (workdir / f"{pair}.yml").write_text(render(config))
        clustered = start_pair(module_launcher, "clustered", spec, "clustered.yml", clustered=True)
        solo = start_pair(module_launcher, "solo", spec, "solo.yml", clustered=False)
        wait_for(
            "the clustered peers to see each other",
            lambda: True if all(len(p.status()["cluster"]["peers"]) == len(clustered) for p in clustered) else None,
            30,
        )
        first = alert("LabHaFirst")
        for peer in clustered + solo:
            peer.post(first)
        wait_for("the first notification", lambda: notifications(recorder, "/clustered", "LabHaFirst") or None, notify_within)
        wait_for("the control pair's notifications", lambda: notifications(recorder, "/solo", "LabHaFirst") or None, notify_within)
        time.sleep(seconds(spec["clusterPeerTimeout"]) + DEDUP_MARGIN_SECONDS)
        clustered_first = notifications(recorder, "/clustered", "LabHaFirst")
        # Kill the peer that notified: the survivor must now notify on its own.
        sender = clustered_first[0]["externalURL"]
        [victim] = [p for p in clustered if p.url == sender]
        victim.process.kill()
        for peer in clustered:
            if peer is not victim:
                peer.post(alert("LabHaSecond"))
        wait_for("a notification with a peer killed", lambda: notifications(recorder, "/clustered", "LabHaSecond") or None, notify_within)
        time.sleep(DEDUP_MARGIN_SECONDS)
        result = Outcome(
            clustered_first=clustered_first,
            solo_first=notifications(recorder, "/solo", "LabHaFirst"),
            after_kill=notifications(recorder, "/clustered", "LabHaSecond"),
            killed_url=sender,
            replicas=spec["replicas"],
        )
        print(
            f"\nalertmanager HA lab: {result.replicas} peers; first alert: {len(result.clustered_first)} notification(s) "
            f"clustered, {len(result.solo_first)} unclustered; with {sender} killed: {len(result.after_kill)}"
        )
        yield result


def test_the_hub_runs_a_cluster(outcome: Outcome) -> None:
    assert outcome.replicas >= 2


def test_one_alert_is_one_notification(outcome: Outcome) -> None:
    assert len(outcome.clustered_first) == 1
    # Without the cluster every peer notifies: the deduplication is the cluster's doing.
    assert len(outcome.solo_first) == outcome.replicas


def test_alerts_are_delivered_with_the_notifying_peer_killed(outcome: Outcome) -> None:
    assert len(outcome.after_kill) == 1
    assert outcome.after_kill[0]["externalURL"] != outcome.killed_url
