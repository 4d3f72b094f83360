"""WAL lab: the agent's write-ahead log at the edges of the buffer, scaled in time.

One real-world hour lasts `LAB_SECONDS_PER_HOUR` seconds. The agent runs the program's config for
the lab's load (labkit/agent_config.py) with its WAL flags scaled: `retention.max-time` (the
buffer) and `wal-truncate-frequency` (components/edge_sizing.py, step 8). Its WAL lives on a tmpfs
of a chosen size, the stand-in for the edge's volume. The link to the hub is cut for
`bufferHours`, starting shortly before the agent's first truncation, so a truncation runs while
unsent samples sit in the WAL.

- Sized: the tmpfs has the model's volume at the lab's rate (`wal_peak_bytes` x margin, scaled
  hours): no WAL write fails and no sample is lost.
- Full: the tmpfs is far smaller than the model's volume (`FULL_VOLUME_BYTES`, under a minute of the
  lab's WAL, so it fills before the link returns): the agent keeps running
  (no crash), every scrape after the disk filled fails to commit and is counted
  (`prometheus_tsdb_wal_writes_failed_total`), those samples are missing at the hub, and the agent
  stays stuck (its truncation cannot open a new segment). A restart on the full volume fails to
  open the WAL: in a pod, a crash loop. Hence the volume sizing, and the hub's warning before a
  volume fills (`ObsfleetEdgeWalVolumeFilling`, components/meta_rules.py).

Mounting needs CAP_SYS_ADMIN: without it the test skips with the reason. Every mount is unmounted
in a finally.
"""

from __future__ import annotations

import math
import subprocess
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import pytest

from components.edge_sizing import WAL_VOLUME_MARGIN, EdgeSizing, duration, size_edge, wal_peak_bytes
from components.prometheus_tls import TlsFiles, to_yaml
from components.settings import EdgeSettings
from labkit.agent_config import agent_config, agent_environment, agent_flags
from labkit.exporter import Exporter
from labkit.metrics import AGENT_LOSS_COUNTERS, seconds, series_past, window_counts
from tests.fixture_fleet import load
from tests.lab.outage import plaintext
from tests.lab.processes import Launcher, Prometheus, free_port, wait_for
from tests.lab.proxy import TcpProxy

pytestmark = pytest.mark.lab

LAB_SECONDS_PER_HOUR = 5.0
"""The agent's 4 h buffer lasts 20 s and its truncation period (12 h) a minute: the scenario fits
in two minutes while the unscaled delays (1 s scrapes, 5 s batch deadline and backoff) stay
shorter than the buffer."""
EDGE = "edge-eu"
METRICS, LABELS = 20, 100
SCRAPE_INTERVAL_SECONDS = 1
CUT_BEFORE_TRUNCATION = 0.25
"""The outage starts this fraction of the buffer before the first truncation."""
FULL_VOLUME_BYTES = 768 * 1024
"""Under a minute of the lab's WAL (its series records, then ~12 KB/s for its 2,000 series and the self-scrape)."""
WAL_WRITES_FAILED = "prometheus_tsdb_wal_writes_failed_total"
CATCH_UP_TIMEOUT = 60.0
STUCK_REPLAY_SECONDS = 10.0
"""For an agent with a full WAL to send what it holds (two batch deadlines)."""


def scaled(text: str) -> str:
    return duration(seconds(text) * LAB_SECONDS_PER_HOUR / 3600)


@contextmanager
def tmpfs(path: Path, size_bytes: int) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs for the WAL: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield path
    finally:
        # Lazily if a process still holds it: the mount never outlives the test.
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=False)


@dataclass(frozen=True)
class Outcome:
    volume_bytes: int
    scrapes: int
    counts: list[int]
    series: int
    wal_writes_failed: float
    agent_losses: float
    alive_after: bool
    restart_error: str
    """The log line of a restart on the same volume that failed, else empty."""


def lab_sizing(settings: EdgeSettings) -> EdgeSizing:
    return size_edge(METRICS * LABELS, SCRAPE_INTERVAL_SECONDS, settings.buffer_hours)


def volume_bytes(sizing: EdgeSizing) -> int:
    """The model's WAL volume at the lab's rate with the scaled truncation period."""
    truncate = seconds(scaled(sizing.wal_truncate_frequency))
    return math.ceil(wal_peak_bytes(sizing.samples_per_second, truncate) * WAL_VOLUME_MARGIN)


def run(launcher: Launcher, hub: Prometheus, name: str, size: int) -> Outcome:
    settings = load(EDGE).settings
    assert isinstance(settings, EdgeSettings)
    sizing = lab_sizing(settings)
    retention = scaled(sizing.wal_retention)
    flags_sizing = replace(sizing, wal_retention=retention, wal_truncate_frequency=scaled(sizing.wal_truncate_frequency))
    truncate_at = seconds(flags_sizing.wal_truncate_frequency)
    outage = seconds(flags_sizing.wal_retention)
    workdir = launcher.workdir
    with ExitStack() as resources:
        wal = resources.enter_context(tmpfs(workdir / f"{name}-wal", size))
        exporter = resources.enter_context(Exporter(METRICS, LABELS))
        link = resources.enter_context(TcpProxy(hub.address))
        port = free_port()
        config = plaintext(agent_config(
            settings, sizing, "https://hub.lab/api/v1/write", TlsFiles(ca_file=""),
            self_target=f"127.0.0.1:{port}", address=link.address,
        ))
        config["global"]["scrape_interval"] = duration(SCRAPE_INTERVAL_SECONDS)
        config["scrape_configs"].append({"job_name": "synthetic", "static_configs": [{"targets": [exporter.address]}]})
        (workdir / f"{name}.yml").write_text(to_yaml(config))
        flags = agent_flags(flags_sizing, f"{name}.yml", str(wal))
        started = time.monotonic()
        agent = launcher.start(name, *flags, port=port, env=agent_environment(sizing))
        resources.callback(agent.stop)  # before the volume is unmounted, whatever happens
        selector = Exporter.series_selector(cluster=settings.cluster)
        launched = time.time()  # the hub keeps the same series from the module's earlier runs
        wait_for(f"{name}'s series at the hub", lambda: series_past(hub.query, selector, exporter.series, launched), 30)
        begin = time.time()
        time.sleep(max(0.0, started + truncate_at - CUT_BEFORE_TRUNCATION * outage - time.monotonic()))
        link.cut()
        time.sleep(outage)
        link.restore()
        time.sleep(5)
        end = time.time()
        low, high, scrapes = wait_for("a scrape after the window", lambda: exporter.window(begin, end), 10)
        alive = agent.process.poll() is None
        metrics = agent.parsed_metrics() if alive else None
        stuck = metrics is not None and metrics.sum(WAL_WRITES_FAILED) > 0
        if stuck:  # it never sends the window's end: count what arrived once its replay settled
            time.sleep(STUCK_REPLAY_SECONDS)
        else:
            wait_for("the replay past the window", lambda: series_past(hub.query, selector, exporter.series, high), CATCH_UP_TIMEOUT)
        counts = [int(r["value"][1]) for r in window_counts(hub.query, selector, low, high)]
        restart_error = ""
        if stuck:
            agent.stop(grace=10)
            again = launcher.start(f"{name}-restarted", *flags, port=port, env=agent_environment(sizing))
            resources.callback(again.stop)
            try:
                again.process.wait(timeout=20)
                restart_error = next((line for line in again.log().splitlines() if "level=error" in line), "exited")
            except subprocess.TimeoutExpired:
                pass
    assert metrics is not None, f"{name} exited during the outage"
    return Outcome(
        volume_bytes=size,
        scrapes=scrapes,
        counts=counts,
        series=METRICS * LABELS,
        wal_writes_failed=metrics.sum(WAL_WRITES_FAILED),
        agent_losses=sum(metrics.sum(c) for c in AGENT_LOSS_COUNTERS),
        alive_after=alive,
        restart_error=restart_error,
    )


@pytest.fixture(scope="module")
def hub(module_launcher: Launcher) -> Prometheus:
    (module_launcher.workdir / "hub.yml").write_text(to_yaml({"global": {"scrape_interval": "15s"}}))
    process = module_launcher.start("hub", "--config.file=hub.yml", "--web.enable-remote-write-receiver", "--storage.tsdb.path=hub-data")
    process.wait_ready_http()
    return process


@pytest.fixture(scope="module")
def sized(module_launcher: Launcher, hub: Prometheus) -> Outcome:
    settings = load(EDGE).settings
    assert isinstance(settings, EdgeSettings)
    outcome = run(module_launcher, hub, "sized", volume_bytes(lab_sizing(settings)))
    print(f"\nwal lab, sized volume: {outcome}")
    return outcome


@pytest.fixture(scope="module")
def full(module_launcher: Launcher, hub: Prometheus) -> Outcome:
    outcome = run(module_launcher, hub, "full", FULL_VOLUME_BYTES)
    print(f"\nwal lab, full volume: {outcome}")
    return outcome


def test_the_sized_volume_holds_the_buffer_without_loss(sized: Outcome) -> None:
    assert sized.wal_writes_failed == 0 and sized.agent_losses == 0
    assert len(sized.counts) == sized.series
    assert set(sized.counts) == {sized.scrapes}, f"samples per series {sorted(set(sized.counts))}, {sized.scrapes} scraped"


def test_a_full_volume_fails_writes_without_crashing_and_loses_what_came_after(full: Outcome) -> None:
    assert full.alive_after, "the agent crashed on a full WAL volume"
    assert full.wal_writes_failed > 0
    assert sum(full.counts) < full.series * full.scrapes


def test_a_restart_on_a_full_volume_cannot_open_the_wal(full: Outcome) -> None:
    assert "no space left on device" in full.restart_error
