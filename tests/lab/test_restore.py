"""Restore drill (docs/restore.md): the Prometheus tier's TSDB, snapshotted through the admin API
and restored into a fresh receiver, holds every series and every sample it held at the snapshot.

A receiver with the hub's flags (remote-write receiver) and the admin API takes its data from a
real agent (the `edge-eu` config the program renders, as in tests/lab/outage.py, over plain HTTP:
the TSDB is this lab's subject). Block ranges are scaled down so the snapshot holds persisted
blocks as well as the head. The snapshot directory is copied away (the runbook's transport) and a
fresh Prometheus opens the copy as its TSDB. The same snapshot taken with `skip_head=true` is the
control: it misses the head, which is why the runbook keeps it.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from components.edge_sizing import for_settings
from components.prometheus_tls import TlsFiles, to_yaml
from labkit.agent_config import agent_config, agent_environment, agent_flags
from labkit.exporter import Exporter
from labkit.metrics import count_matching
from tests.lab.agent_lab import lab_settings
from tests.lab.outage import plaintext
from tests.lab.processes import Launcher, Prometheus, free_port, wait_for

pytestmark = pytest.mark.lab

BLOCK = "10s"
"""`--storage.tsdb.min-block-duration` (and max): blocks are cut within the lab's minute."""
DATA_SECONDS = 45.0
"""Of remote-written data before the snapshot: several blocks and a head."""
METRICS, LABELS = 10, 20


def receiver_flags(data_dir: str) -> list[str]:
    return [
        "--config.file=receiver.yml",
        "--web.enable-remote-write-receiver",
        "--web.enable-admin-api",
        f"--storage.tsdb.path={data_dir}",
        f"--storage.tsdb.min-block-duration={BLOCK}",
        f"--storage.tsdb.max-block-duration={BLOCK}",
    ]


def snapshot(receiver: Prometheus, skip_head: bool) -> str:
    url = f"http://{receiver.address}/api/v1/admin/tsdb/snapshot?skip_head={str(skip_head).lower()}"
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30) as response:
        return json.loads(response.read())["data"]["name"]


def inventory(receiver: Prometheus, at: float) -> dict[str, int]:
    """Every series (its label set) and its sample count over the last hour at `at`."""
    result = receiver.query('{__name__=~".+"}[1h]', at=at)  # a range: the names stay on the series
    return {json.dumps(r["metric"], sort_keys=True): len(r["values"]) for r in result}


def restored(launcher: Launcher, name: str, snapshot_dir: Path) -> Prometheus:
    """A fresh receiver whose TSDB is a copy of `snapshot_dir`."""
    data = launcher.workdir / f"{name}-data"
    shutil.copytree(snapshot_dir, data)
    process = launcher.start(name, *receiver_flags(str(data)))
    process.wait_ready_http()
    return process


@dataclass(frozen=True)
class Drill:
    original: dict[str, int]
    restored: dict[str, int]
    without_head: dict[str, int]
    blocks: int
    """Persisted blocks in the snapshot besides the head."""


@pytest.fixture(scope="module")
def drill(module_launcher: Launcher) -> Iterator[Drill]:
    workdir = module_launcher.workdir
    (workdir / "receiver.yml").write_text(to_yaml({"global": {"scrape_interval": "15s"}}))
    receiver = module_launcher.start("receiver", *receiver_flags("receiver-data"))
    receiver.wait_ready_http()
    settings = lab_settings()
    sizing = for_settings(settings)
    with Exporter(METRICS, LABELS) as exporter:
        port = free_port()
        config = agent_config(
            settings, sizing, "https://receiver.lab/api/v1/write", TlsFiles(ca_file=""),
            self_target=f"127.0.0.1:{port}", address=receiver.address,
        )
        plaintext(config)
        config["scrape_configs"].append({"job_name": "synthetic", "static_configs": [{"targets": [exporter.address]}]})
        (workdir / "agent.yml").write_text(to_yaml(config))
        agent = module_launcher.start(
            "agent", *agent_flags(sizing, "agent.yml", "agent-data"), port=port, env=agent_environment(sizing)
        )
        selector = Exporter.series_selector(cluster=settings.cluster)
        wait_for("the agent's series at the receiver", lambda: count_matching(receiver.query, selector, exporter.series), 30)
        time.sleep(DATA_SECONDS)
        agent.stop()  # nothing arrives after the snapshot: the inventories compare like with like
    at = time.time()
    original = inventory(receiver, at)
    full = workdir / "receiver-data" / "snapshots" / snapshot(receiver, skip_head=False)
    headless = workdir / "receiver-data" / "snapshots" / snapshot(receiver, skip_head=True)
    receiver.stop()
    blocks = sum(1 for path in full.iterdir() if path.is_dir())
    result = Drill(
        original=original,
        restored=inventory(restored(module_launcher, "restored", full), at),
        without_head=inventory(restored(module_launcher, "restored-without-head", headless), at),
        blocks=blocks,
    )
    print(
        f"\nrestore drill: {len(result.original)} series, {sum(result.original.values())} samples, "
        f"{result.blocks} blocks; restored {len(result.restored)} series, {sum(result.restored.values())} samples; "
        f"without the head {len(result.without_head)} series, {sum(result.without_head.values())} samples"
    )
    yield result


def test_the_snapshot_spans_blocks_and_head(drill: Drill) -> None:
    assert drill.blocks >= 1
    assert drill.original and sum(drill.original.values()) > 0


def test_every_series_and_sample_is_back_after_the_restore(drill: Drill) -> None:
    missing = set(drill.original) - set(drill.restored)
    assert not missing, f"{len(missing)} series missing after the restore"
    short = {s: (n, drill.restored[s]) for s, n in drill.original.items() if drill.restored[s] != n}
    assert not short, f"{len(short)} series with other sample counts after the restore"


def test_a_snapshot_without_the_head_would_lose_recent_data(drill: Drill) -> None:
    assert sum(drill.without_head.values()) < sum(drill.original.values())
