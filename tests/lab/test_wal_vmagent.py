"""WAL lab, vmagent's case: past its disk buffer the edge drops the oldest data, counts and alerts.

vmagent (`agent: vmagent`) buffers what it cannot send in a file-backed queue capped by
`-remoteWrite.maxDiskUsagePerURL` (components/vmagent_sizing.py); when a new block does not fit,
it drops the oldest blocks and counts them (`vm_persistentqueue_bytes_dropped_total`). The real
Debian vmagent runs the program's command line for the labs' edge with the cap scaled down to
`CAP_BYTES` (the program's floor is vmagent's 500 MB chunk) and the in-memory queue, which it
sizes from the memory it may use, to its minimum (`IN_MEMORY_BYTES`). The hub (behind its front
door, mTLS) is stopped far longer than the cap holds, then restarted:
- the agent keeps running, no panic nor fatal error in its log;
- the samples missing at the hub are one run starting at the outage's start (after at most the
  block being retried and the ones not yet flushed, `HEAD_BLOCKS`), everything newer arrives;
- the blocks dropped match the scrapes missing, within `TOLERANCE_BLOCKS`: vmagent drops whole
  blocks (one flush, about one scrape, each). What it keeps is not the cap: 1.79 held about four
  times `CAP_BYTES` pending (printed, not asserted);
- the counter is at the hub, and the program's rendered `ObsfleetEdgeVmagentBufferFull` fires on
  the values the hub received (`promtool test rules`, one lab second standing for a minute so the
  scaled outage outlasts the rule's `for`).
"""

from __future__ import annotations

import math
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from components import vmagent_sizing
from components.meta_rules import fleet_group, rules_file
from labkit.exporter import Exporter
from review import engine
from tests.lab import mtls
from tests.lab.agent_lab import LABELS, METRICS, lab_settings
from tests.lab.mtls import EDGE, HUB
from tests.lab.outage import Timing, stopping_the_hub
from tests.lab.processes import PROMTOOL, Launcher, launching, require_binary, wait_for
from tests.lab.vmagent_agent import start_vmagent
from labkit.metrics import series_past

pytestmark = pytest.mark.lab

SCRAPE_INTERVAL_SECONDS = 1
"""One block per scrape: vmagent flushes a block every second (`-remoteWrite.flushInterval`)."""
CAP_BYTES = 256 * 1024
"""The scaled `-remoteWrite.maxDiskUsagePerURL`: some tens of seconds of the lab's 2,000 series."""
IN_MEMORY_BYTES = 2 * 10**6
"""`-memory.allowedBytes`: vmagent keeps allowed / 10,000 rows / 100 blocks in memory before the
file queue, at least 2; in a pod it derives them from the memory limit."""
OUTAGE_SECONDS = 75.0
TIMING = Timing(interval=SCRAPE_INTERVAL_SECONDS, before=8.0, outage=OUTAGE_SECONDS, after=5.0, catch_up_timeout=90.0)
HEAD_BLOCKS = 3
"""Outage scrapes that may arrive before the gap: the block vmagent retries and those it had not
flushed when the hub went down."""
TOLERANCE_BLOCKS = 4
"""Blocks dropped versus scrapes missing: flushes holding two scrapes or none, the in-memory queue (2)."""
DROPPED_BYTES = "vm_persistentqueue_bytes_dropped_total"
DROPPED_BLOCKS = "vm_persistentqueue_blocks_dropped_total"
PENDING_BYTES = "vm_persistentqueue_bytes_pending"
ALERT = "ObsfleetEdgeVmagentBufferFull"
LAB_SECOND = "1m"
"""What one lab second stands for when the rule is evaluated on the hub's values."""


@dataclass(frozen=True)
class Outcome:
    stopped: float
    restored: float
    caught_up: float
    """Every series held a sample scraped after the restore: sending resumed (after vmagent's backoff)."""
    scrapes: list[float]
    """The exporter's scrapes in the window."""
    received: list[float]
    """Timestamps of one synthetic series at the hub in the window."""
    pending_before_restore: float
    dropped_bytes: float
    dropped_blocks: float
    counter_at_hub: list[dict[str, Any]]
    """The dropped-bytes counter as the hub received it (the agent's self-scrape), over the window."""
    log: str
    running: bool


def missing(outcome: Outcome) -> list[float]:
    """The scrapes with no sample at the hub (a sample is stamped when its scrape starts)."""
    return [t for t in outcome.scrapes if not any(-0.5 < t - r < 0.5 for r in outcome.received)]


@pytest.fixture(scope="module")
def wal_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    yield from launching(tmp_path_factory.mktemp("wal-vmagent"))


@pytest.fixture(scope="module")
def outcome(wal_launcher: Launcher, fleet: dict[str, engine.PreviewResult]) -> Outcome:
    edge = fleet[EDGE]
    settings = lab_settings(agent="vmagent", scrape_interval_seconds=SCRAPE_INTERVAL_SECONDS)
    sizing = replace(vmagent_sizing.for_settings(settings), max_disk_usage_bytes=CAP_BYTES)
    hub = mtls.start(wal_launcher, fleet[HUB])
    with Exporter(METRICS, LABELS) as exporter:
        files = mtls.edge_credentials(edge).files(wal_launcher.workdir / "vmagent-tls")
        agent = start_vmagent(
            wal_launcher, "vmagent", edge, hub, files, [exporter.address],
            (f"-memory.allowedBytes={IN_MEMORY_BYTES}",), settings=settings, sizing=sizing,
        )
        selector = Exporter.series_selector(cluster=EDGE)
        wait_for("the first scrape at the hub", lambda: series_past(hub.process.query, selector, exporter.series, 0), 30)
        start = time.time()
        time.sleep(TIMING.before)
        stopped = time.time()
        restore = stopping_the_hub(wal_launcher, hub, TIMING)()
        time.sleep(TIMING.outage)
        pending = agent.parsed_metrics().sum(PENDING_BYTES)
        restore()
        restored = time.time()
        wait_for("the catch-up", lambda: series_past(hub.process.query, selector, exporter.series, restored), TIMING.catch_up_timeout)
        caught_up = time.time()
        time.sleep(TIMING.after)
        end = time.time()
        low, high, _ = wait_for("a scrape after the window", lambda: exporter.window(start, end), 5)
        wait_for("the replay past the window", lambda: series_past(hub.process.query, selector, exporter.series, high), 30)
        span = f"{math.ceil(high - low)}s"
        [one] = hub.process.query(f'{Exporter.series_selector(cluster=EDGE, series="000000")}[{span}]', at=high)
        counter = hub.process.query(f'{DROPPED_BYTES}{{cluster="{EDGE}"}}[{span}]', at=high)
        metrics = agent.parsed_metrics()
        running = agent.process.poll() is None
        result = Outcome(
            stopped=stopped,
            restored=restored,
            caught_up=caught_up,
            scrapes=[t for t in exporter.scrapes() if low < t <= high],
            received=[float(ts) for ts, _ in one["values"]],
            pending_before_restore=pending,
            dropped_bytes=metrics.sum(DROPPED_BYTES),
            dropped_blocks=metrics.sum(DROPPED_BLOCKS),
            counter_at_hub=counter,
            log=agent.log(),
            running=running,
        )
    gap = missing(result)
    print(
        f"\nvmagent WAL lab: cap {CAP_BYTES} B, hub down {restored - stopped:.1f} s, pending before restore "
        f"{pending:.0f} B; dropped {result.dropped_bytes:.0f} B in {result.dropped_blocks:.0f} blocks; "
        f"{len(gap)} of {len(result.scrapes)} scrapes missing, from {gap[0] - stopped if gap else 0:+.1f} s to "
        f"{gap[-1] - stopped if gap else 0:+.1f} s after the outage start; the first sample after the gap "
        f"scraped {restored - next((t for t in result.scrapes if gap and t > gap[-1]), restored):.1f} s before the restore"
    )
    return result


def test_wal_vmagent_survives_a_full_buffer(outcome: Outcome) -> None:
    assert outcome.running, "vmagent exited"
    assert "panic" not in outcome.log and "FATAL" not in outcome.log


def test_wal_vmagent_drops_the_oldest_data(outcome: Outcome) -> None:
    gap = missing(outcome)
    assert gap, "nothing was dropped: the outage did not outlast the cap"
    indices = [outcome.scrapes.index(t) for t in gap]
    assert indices == list(range(indices[0], indices[0] + len(gap))), "the missing scrapes are not one run"
    # Until sending resumes the queue keeps dropping: the gap may end after the restore.
    assert outcome.stopped <= gap[0] and gap[-1] <= outcome.caught_up
    head = [t for t in outcome.scrapes if outcome.stopped <= t < gap[0]]
    assert len(head) <= HEAD_BLOCKS, f"{len(head)} outage scrapes arrived before the gap: the gap is not at the start"
    # Everything newer than the gap arrived, the end of the outage included.
    assert all(t in outcome.scrapes[indices[-1] + 1:] for t in outcome.scrapes if t > gap[-1])


def test_wal_vmagent_counts_what_it_drops(outcome: Outcome) -> None:
    gap = missing(outcome)
    assert outcome.dropped_blocks > 0
    # One block per scrape: the blocks dropped are the scrapes missing.
    assert abs(outcome.dropped_blocks - len(gap)) <= TOLERANCE_BLOCKS


def promtool_test(directory: Path, counter: list[dict[str, Any]], evaluations: dict[int, bool]) -> subprocess.CompletedProcess[str]:
    """`promtool test rules` of the program's fleet rules on `counter` (one value per lab second,
    gaps where the hub has none); `evaluations`: lab second -> whether the alert fires then."""
    (directory / "rules.yml").write_text(rules_file([fleet_group([EDGE], by_tenant=False)]))
    t0 = min(float(ts) for series in counter for ts, _ in series["values"])
    inputs = []
    for series in counter:
        by_second = {round(float(ts) - t0): v for ts, v in series["values"]}
        values = " ".join(by_second.get(i, "_") for i in range(max(by_second) + 1))
        labels = ",".join(f'{k}="{v}"' for k, v in series["metric"].items() if k != "__name__")
        inputs.append({"series": f"{DROPPED_BYTES}{{{labels}}}", "values": values})
    firing = f'ALERTS{{alertname="{ALERT}",alertstate="firing"}}'
    expected = [{"labels": f'ALERTS{{alertname="{ALERT}",alertstate="firing",cluster="{EDGE}",severity="critical"}}', "value": 1}]
    tests = [
        {"expr": firing, "eval_time": f"{second}m", "exp_samples": expected if fires else []}
        for second, fires in evaluations.items()
    ]
    (directory / "test.yml").write_text(yaml.safe_dump({
        "rule_files": ["rules.yml"],
        "evaluation_interval": LAB_SECOND,
        "tests": [{"interval": LAB_SECOND, "input_series": inputs, "promql_expr_test": tests}],
    }))
    return subprocess.run([require_binary(PROMTOOL), "test", "rules", "test.yml"], cwd=directory, capture_output=True, text=True, timeout=60)


def test_wal_vmagent_counts_the_drop_and_the_alert_fires(outcome: Outcome, tmp_path: Path) -> None:
    assert outcome.dropped_bytes > 0
    assert outcome.counter_at_hub, f"{DROPPED_BYTES} is not at the hub"
    t0 = min(float(ts) for s in outcome.counter_at_hub for ts, _ in s["values"])
    rises = sorted(
        round(float(b[0]) - t0)
        for s in outcome.counter_at_hub
        for a, b in zip(s["values"], s["values"][1:])
        if float(b[1]) > float(a[1])
    )
    assert rises, "the hub holds no rise of the counter"
    # Quiet before anything was dropped, firing while the drops went on.
    run = promtool_test(tmp_path, outcome.counter_at_hub, {round(outcome.stopped - t0) - 1: False, rises[-1]: True})
    assert run.returncode == 0, run.stdout + run.stderr
