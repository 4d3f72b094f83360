"""WAL lab: the agent's write-ahead log at the edges of the buffer, scaled in time.

One real-world hour lasts a scenario's `seconds_per_hour`. The agent runs the program's config for
the lab's load (labkit/agent_config.py) with its WAL flags scaled: `retention.max-time` (the
buffer) and `wal-truncate-frequency` (components/edge_sizing.py, step 8). Its WAL lives on a tmpfs
of a chosen size, the stand-in for the edge's volume. The hub evaluates the program's fleet rules
(components/meta_rules.py) every second.

- Sized: the tmpfs has the model's volume at the lab's rate (`wal_peak_bytes` x margin, scaled
  hours); the link to the hub is cut for `bufferHours`, starting shortly before the agent's first
  truncation, so a truncation runs while unsent samples sit in the WAL: no WAL write fails, no
  sample is lost, and the loss alert stays quiet.
- Past the window (components/edge_wal.py): remote write's reader stops in segment n when the link
  is cut; the agent's truncations go on, and the one `truncation_deleting(n + 1)` predicts deletes
  the reader's next segment. Cut from the first truncation period until just before that
  truncation, nothing is lost (an outage ten times `bufferHours`). Until just after it, the reader
  finishes segment n once the link returns, fails to open n + 1 and restarts at the present
  ("error tailing WAL", then "Replaying WAL" again): exactly the samples scraped from the start
  of segment n + 1 (the truncation that closed n) to the restart never reach the hub, the older
  ones do, and `ObsfleetEdgeWalSamplesLost` fires with that count.
- Full: the tmpfs is far smaller than the model's volume (`FULL_VOLUME_BYTES`, under a minute of the
  lab's WAL, so it fills before the link returns): the agent keeps running
  (no crash), every scrape after the disk filled fails to commit and is counted
  (`prometheus_tsdb_wal_writes_failed_total`), those samples are missing at the hub, and the agent
  stays stuck (its truncation cannot open a new segment). A restart on the full volume fails to
  open the WAL (in a pod, a crash loop) unless the WAL guard (components/edge_wal_guard.py, the
  agent pod's init container) runs first: its script, run here by busybox (else the local
  shell), deletes the WAL, and the restarted agent ships every scrape. On the sized volume the
  guard keeps the WAL.

Mounting needs CAP_SYS_ADMIN: without it the test skips with the reason. Every mount is unmounted
in a finally.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import shutil
import subprocess
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Optional

import pytest

from components import edge_wal_guard
from components.edge_sizing import (
    BATCH_SEND_DEADLINE_SECONDS, MAX_BACKOFF_SECONDS, WAL_VOLUME_MARGIN, EdgeSizing, duration, size_edge, wal_peak_bytes,
)
from components.edge_wal import truncation_deleting
from components.meta_rules import fleet_group, rules_file
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
PAST_WINDOW_SECONDS_PER_HOUR = 1.25
"""The truncation period lasts 15 s: the truncation deleting the reader's next segment comes a
minute after the start, still well above the unscaled delays (1 s scrapes, 5 s batch deadline,
the reader's 5 s retry)."""
EDGE = "edge-eu"
METRICS, LABELS = 20, 100
SCRAPE_INTERVAL_SECONDS = 1
CUT_BEFORE_TRUNCATION = 0.25
"""The sized outage starts this fraction of the buffer before the first truncation."""
DELETED_BEFORE_RETURN = 3.0
"""Seconds from the truncation deleting the reader's next segment to the link's return."""
RETURN_BEFORE_DELETION = 2 * MAX_BACKOFF_SECONDS + BATCH_SEND_DEADLINE_SECONDS
"""Seconds from the link's return to that truncation when the reader should finish its segment
first: two retry backoffs (the first retry may still use a connection the cut broke) and a batch
deadline; draining the segment itself takes under a second."""
FULL_VOLUME_BYTES = 768 * 1024
"""Under a minute of the lab's WAL (its series records, then ~12 KB/s for its 2,000 series and the self-scrape)."""
WAL_WRITES_FAILED = "prometheus_tsdb_wal_writes_failed_total"
SAMPLES_IN = "prometheus_remote_storage_samples_in_total"
READER_SEGMENT = "prometheus_wal_watcher_current_segment"
LOSS_ALERT = "ObsfleetEdgeWalSamplesLost"
CATCH_UP_TIMEOUT = 60.0
STUCK_REPLAY_SECONDS = 10.0
"""For an agent with a full WAL to send what it holds (two batch deadlines)."""
QUIET_EVALUATIONS_SECONDS = 5.0
"""Rule evaluations (every second) the hub gets after a catch-up before the alert must be quiet."""
# The agent's log lines (logfmt) the past-the-window scenario times itself by.
TRUNCATION = "series GC completed"
"""Logged as each truncation starts, just before it closes the segment being written."""
CHECKPOINT = "WAL checkpoint complete"
READER_ERROR = "error tailing WAL"
READER_START = "Replaying WAL"
"""Logged by the reader as it starts, right after it sets its start time."""
_LOG_TIME = re.compile(r"^ts=(\S+)")


def report(outcome: object) -> str:
    """An outcome for the log, each per-series list of counts as {count: series}."""
    fields = dataclasses.asdict(outcome)  # type: ignore[call-overload]
    return str({k: dict(Counter(v)) if isinstance(v, list) and v and isinstance(v[0], int) else v for k, v in fields.items()})


def scaled(text: str, seconds_per_hour: float) -> str:
    return duration(seconds(text) * seconds_per_hour / 3600)


def log_times(log: str, message: str) -> list[float]:
    """Unix times of an agent's log lines with `msg="<message>"`."""
    times = []
    for line in log.splitlines():
        match = _LOG_TIME.match(line)
        if match and f'msg="{message}"' in line:
            stamp = dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
            times.append(stamp.timestamp())
    return times


def log_lines(log: str, message: str) -> list[str]:
    return [line for line in log.splitlines() if f'msg="{message}"' in line]


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


def lab_settings() -> EdgeSettings:
    settings = load(EDGE).settings
    assert isinstance(settings, EdgeSettings)
    return settings


def lab_sizing(settings: EdgeSettings) -> EdgeSizing:
    return size_edge(METRICS * LABELS, SCRAPE_INTERVAL_SECONDS, settings.buffer_hours)


def scaled_sizing(sizing: EdgeSizing, seconds_per_hour: float) -> EdgeSizing:
    """The sizing with its WAL durations scaled: what the agent's flags get."""
    return replace(
        sizing,
        wal_retention=scaled(sizing.wal_retention, seconds_per_hour),
        wal_truncate_frequency=scaled(sizing.wal_truncate_frequency, seconds_per_hour),
    )


def volume_bytes(sizing: EdgeSizing, seconds_per_hour: float) -> int:
    """The model's WAL volume at the lab's rate with the scaled truncation period."""
    truncate = seconds(scaled(sizing.wal_truncate_frequency, seconds_per_hour))
    return math.ceil(wal_peak_bytes(sizing.samples_per_second, truncate) * WAL_VOLUME_MARGIN)


@dataclass(frozen=True)
class LabAgent:
    process: Prometheus
    exporter: Exporter
    link: TcpProxy
    selector: str
    """The exporter's series as the hub stores them."""
    started: float
    """Monotonic time just before the agent started."""
    truncate_every: float
    restart: list[str]
    """The agent's flags, for a restart on the same volume."""
    storage: Path
    """Its storage directory (`--storage.agent.path`): the tmpfs."""


def start_agent(
    launcher: Launcher, resources: ExitStack, hub: Prometheus, name: str, size: int, seconds_per_hour: float
) -> LabAgent:
    """The program's agent for the lab's load with scaled WAL flags, its WAL on a `size`-byte tmpfs,
    remote-writing to `hub` through a proxy; once every series has reached the hub."""
    settings = lab_settings()
    sizing = lab_sizing(settings)
    flags_sizing = scaled_sizing(sizing, seconds_per_hour)
    workdir = launcher.workdir
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
    launched = time.time()  # a hub may keep the same series from the module's earlier runs
    wait_for(f"{name}'s series at the hub", lambda: series_past(hub.query, selector, exporter.series, launched), 30)
    return LabAgent(agent, exporter, link, selector, started, seconds(flags_sizing.wal_truncate_frequency), flags, wal)


def loss_alert(hub: Prometheus) -> list[dict]:
    """The loss alert's ALERTS series at the hub (pending or firing)."""
    return hub.query(f'ALERTS{{alertname="{LOSS_ALERT}"}}')


def loss_rule_expr() -> str:
    rules = fleet_group([EDGE], by_tenant=False)["rules"]
    return next(r["expr"] for r in rules if r.get("alert") == LOSS_ALERT)


def start_hub(launcher: Launcher, name: str) -> Prometheus:
    """A hub receiving remote write and evaluating the program's fleet rules every second."""
    (launcher.workdir / f"{name}.rules.yml").write_text(rules_file([fleet_group([EDGE], by_tenant=False)]))
    config = {"global": {"scrape_interval": "15s", "evaluation_interval": "1s"}, "rule_files": [f"{name}.rules.yml"]}
    (launcher.workdir / f"{name}.yml").write_text(to_yaml(config))
    process = launcher.start(
        name, f"--config.file={name}.yml", "--web.enable-remote-write-receiver", f"--storage.tsdb.path={name}-data"
    )
    process.wait_ready_http()
    return process


@dataclass(frozen=True)
class Outcome:
    volume_bytes: int
    scrapes: int
    counts: list[int]
    series: int
    wal_writes_failed: float
    agent_losses: float
    alive_after: bool
    loss_alerts: list[dict]
    """The loss alert's ALERTS series at the hub after the catch-up."""
    guard_output: str
    """What the WAL guard printed when run on the volume after the outage (agent stopped if stuck)."""
    wal_kept: bool
    """The WAL directory was still there after the guard ran."""
    unguarded_restart_error: str
    """A stuck agent's restart on the same volume without the guard: its error line, else empty."""
    guarded_restart_counts: list[int]
    """After the guard: samples per series at the hub over the restarted agent's first scrapes."""
    guarded_restart_scrapes: int
    guarded_restart_writes_failed: float


def guard(storage: Path) -> str:
    """The WAL guard's rendered script on the agent's storage, run by busybox's shell (the guard
    image's) when Debian's `busybox` is installed, else by the local POSIX shell."""
    shell = ["busybox"] if shutil.which("busybox") else []
    done = subprocess.run([*shell, *edge_wal_guard.command(str(storage))], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def restart_error(launcher: Launcher, name: str, lab: LabAgent, env: dict[str, str]) -> str:
    """A restart on the same volume: its first error line if it exits within 20 s, else empty."""
    again = launcher.start(name, *lab.restart, port=lab.process.port, env=env)
    try:
        again.process.wait(timeout=20)
        return next((line for line in again.log().splitlines() if "level=error" in line), "exited")
    except subprocess.TimeoutExpired:
        return ""
    finally:
        again.stop()


def run(launcher: Launcher, hub: Prometheus, name: str, size: int) -> Outcome:
    env = agent_environment(lab_sizing(lab_settings()))
    with ExitStack() as resources:
        lab = start_agent(launcher, resources, hub, name, size, LAB_SECONDS_PER_HOUR)
        agent, exporter = lab.process, lab.exporter
        outage = seconds(scaled(lab_sizing(lab_settings()).wal_retention, LAB_SECONDS_PER_HOUR))
        begin = time.time()
        time.sleep(max(0.0, lab.started + lab.truncate_every - CUT_BEFORE_TRUNCATION * outage - time.monotonic()))
        lab.link.cut()
        time.sleep(outage)
        lab.link.restore()
        time.sleep(5)
        end = time.time()
        low, high, scrapes = wait_for("a scrape after the window", lambda: exporter.window(begin, end), 10)
        alive = agent.process.poll() is None
        metrics = agent.parsed_metrics() if alive else None
        stuck = metrics is not None and metrics.sum(WAL_WRITES_FAILED) > 0
        if stuck:  # it never sends the window's end: count what arrived once its replay settled
            time.sleep(STUCK_REPLAY_SECONDS)
        else:
            wait_for("the replay past the window", lambda: series_past(hub.query, lab.selector, exporter.series, high), CATCH_UP_TIMEOUT)
            time.sleep(QUIET_EVALUATIONS_SECONDS)
        counts = [int(r["value"][1]) for r in window_counts(hub.query, lab.selector, low, high)]
        alerts = loss_alert(hub)
        unguarded, restarted_counts, restarted_scrapes, restarted_failed = "", [], 0, 0.0
        if stuck:
            agent.stop(grace=10)
            unguarded = restart_error(launcher, f"{name}-unguarded", lab, env)
        guarded = guard(lab.storage)
        kept = (lab.storage / "wal").is_dir()
        if stuck:
            again = launcher.start(f"{name}-guarded", *lab.restart, port=agent.port, env=env)
            resources.callback(again.stop)
            again.wait_ready_http()
            back = time.time()
            # Its first scrape comes once the scrape manager applies the targets (up to ~10 s).
            first = wait_for("the restarted agent's first scrape", lambda: next((t for t in exporter.scrapes() if t > back), None), 20)
            time.sleep(5)
            until = time.time()
            low, high, restarted_scrapes = wait_for("scrapes after the restart", lambda: exporter.window(first, until), 10)
            wait_for("the restarted agent's samples", lambda: series_past(hub.query, lab.selector, exporter.series, high), CATCH_UP_TIMEOUT)
            restarted_counts = [int(r["value"][1]) for r in window_counts(hub.query, lab.selector, low, high)]
            restarted_failed = again.parsed_metrics().sum(WAL_WRITES_FAILED)
    assert metrics is not None, f"{name} exited during the outage"
    return Outcome(
        volume_bytes=size,
        scrapes=scrapes,
        counts=counts,
        series=METRICS * LABELS,
        wal_writes_failed=metrics.sum(WAL_WRITES_FAILED),
        agent_losses=sum(metrics.sum(c) for c in AGENT_LOSS_COUNTERS),
        alive_after=alive,
        loss_alerts=alerts,
        guard_output=guarded,
        wal_kept=kept,
        unguarded_restart_error=unguarded,
        guarded_restart_counts=restarted_counts,
        guarded_restart_scrapes=restarted_scrapes,
        guarded_restart_writes_failed=restarted_failed,
    )


@dataclass(frozen=True)
class PastWindow:
    """One outage from the reader's segment n until around the truncation deleting n + 1."""

    reader_segment: int
    deleting_truncation: int
    """The truncation (1 = first) the model says deletes the reader's next segment."""
    checkpoint: str
    """The agent's log line of that truncation's checkpoint, empty if it had not run yet."""
    outage_seconds: float
    scrapes: int
    """Scrapes the exporter served in the counted window."""
    missing: list[int]
    """Scrapes of the window missing at the hub, per synthetic series."""
    predicted_missing: int
    """Scrapes from the truncation that closed the reader's segment to the reader's restart."""
    reader_error: str
    """The reader's log line when it failed, else empty."""
    wal_writes_failed: float
    agent_losses: float
    samples_in_per_second: float
    """Everything the agent stored (the synthetic series and its own), per second."""
    lost_seconds: float
    """From the truncation that closed the reader's segment to its restart (0 when it kept going)."""
    alert_value: Optional[float]
    """The loss alert's value when it fired, else None."""
    alert_after_restore_seconds: Optional[float]


def run_past_window(launcher: Launcher, hub: Prometheus, name: str, beyond: bool) -> PastWindow:
    """Cut the link in the first truncation period; restore it RETURN_BEFORE_DELETION before
    (`beyond` False) or DELETED_BEFORE_RETURN after the truncation `truncation_deleting` names for
    the reader's next segment."""
    sizing = lab_sizing(lab_settings())
    with ExitStack() as resources:
        lab = start_agent(launcher, resources, hub, name, volume_bytes(sizing, PAST_WINDOW_SECONDS_PER_HOUR), PAST_WINDOW_SECONDS_PER_HOUR)
        agent, exporter = lab.process, lab.exporter
        time.sleep(2 * SCRAPE_INTERVAL_SECONDS)
        first = agent.parsed_metrics()
        first_at = time.time()
        begin = first_at
        lab.link.cut()
        cut_at = time.time()
        # The reader stops once the queue is full: a batch per shard in flight plus its capacity.
        time.sleep(BATCH_SEND_DEADLINE_SECONDS)
        reader = int(agent.parsed_metrics().sum(READER_SEGMENT, consumer="hub"))
        assert not log_times(agent.log(), TRUNCATION), "the reader stopped after a truncation: the lab is too slow"
        deleting = truncation_deleting(reader + 1)
        truncations = lambda: log_times(agent.log(), TRUNCATION)  # noqa: E731
        if beyond:
            wait_for(f"truncation {deleting}", lambda: True if len(truncations()) >= deleting else None, (deleting + 1) * lab.truncate_every)
            time.sleep(DELETED_BEFORE_RETURN)
        else:
            first_truncation = wait_for("the first truncation", lambda: truncations()[0] if truncations() else None, 2 * lab.truncate_every)
            time.sleep(max(0.0, first_truncation + (deleting - 1) * lab.truncate_every - RETURN_BEFORE_DELETION - time.time()))
            assert len(truncations()) < deleting, "the link returns after the deleting truncation"
        lab.link.restore()
        restored = time.time()
        log = agent.log()
        if beyond:
            wait_for("the reader's restart", lambda: True if len(log_times(agent.log(), READER_START)) >= 2 else None, 30)
            log = agent.log()
            restart = log_times(log, READER_START)[1]
            closed = log_times(log, TRUNCATION)[reader]  # truncation reader + 1 closed segment `reader`
            lost_seconds = restart - closed
        else:
            restart, closed, lost_seconds = restored, restored, 0.0
        time.sleep(5)
        end = time.time()
        low, high, scrapes = wait_for("a scrape after the window", lambda: exporter.window(begin, end), 10)
        wait_for("the replay past the window", lambda: series_past(hub.query, lab.selector, exporter.series, high), CATCH_UP_TIMEOUT)
        alert_after: Optional[float] = None
        if beyond:
            wait_for(f"{LOSS_ALERT} firing", lambda: True if [a for a in loss_alert(hub) if a["metric"]["alertstate"] == "firing"] else None, 30)
            alert_after = time.time() - restored
        else:
            time.sleep(QUIET_EVALUATIONS_SECONDS)
        alert_values = hub.query(loss_rule_expr()) if loss_alert(hub) else []
        counts = [int(r["value"][1]) for r in window_counts(hub.query, lab.selector, low, high)]
        last = agent.parsed_metrics()
        last_at = time.time()
        log = agent.log()
    predicted = len([t for t in exporter.scrapes() if closed <= t < restart])
    checkpoints = log_lines(log, CHECKPOINT)
    checkpoint = checkpoints[0] if beyond and checkpoints else ""
    return PastWindow(
        reader_segment=reader,
        deleting_truncation=deleting,
        checkpoint=checkpoint,
        outage_seconds=restored - cut_at,
        scrapes=scrapes,
        missing=[scrapes - c for c in counts],
        predicted_missing=predicted,
        reader_error=next(iter(log_lines(log, READER_ERROR)), ""),
        wal_writes_failed=last.sum(WAL_WRITES_FAILED),
        agent_losses=sum(last.sum(c) for c in AGENT_LOSS_COUNTERS),
        samples_in_per_second=(last.sum(SAMPLES_IN) - first.sum(SAMPLES_IN)) / (last_at - first_at),
        lost_seconds=lost_seconds,
        alert_value=float(alert_values[0]["value"][1]) if alert_values else None,
        alert_after_restore_seconds=alert_after,
    )


@pytest.fixture(scope="module")
def hub(module_launcher: Launcher) -> Prometheus:
    return start_hub(module_launcher, "hub")


@pytest.fixture(scope="module")
def sized(module_launcher: Launcher, hub: Prometheus) -> Outcome:
    outcome = run(module_launcher, hub, "sized", volume_bytes(lab_sizing(lab_settings()), LAB_SECONDS_PER_HOUR))
    print(f"\nwal lab, sized volume: {report(outcome)}")
    return outcome


@pytest.fixture(scope="module")
def full(module_launcher: Launcher, hub: Prometheus) -> Outcome:
    outcome = run(module_launcher, hub, "full", FULL_VOLUME_BYTES)
    print(f"\nwal lab, full volume: {report(outcome)}")
    return outcome


@pytest.fixture(scope="module")
def within_window(module_launcher: Launcher) -> PastWindow:
    outcome = run_past_window(module_launcher, start_hub(module_launcher, "hub-within"), "within", beyond=False)
    print(f"\nwal lab, link back before the deleting truncation: {report(outcome)}")
    return outcome


@pytest.fixture(scope="module")
def past_window(module_launcher: Launcher) -> PastWindow:
    outcome = run_past_window(module_launcher, start_hub(module_launcher, "hub-past"), "past", beyond=True)
    print(f"\nwal lab, link back after the deleting truncation: {report(outcome)}")
    return outcome


def test_the_sized_volume_holds_the_buffer_without_loss(sized: Outcome) -> None:
    assert sized.wal_writes_failed == 0 and sized.agent_losses == 0
    assert len(sized.counts) == sized.series
    assert set(sized.counts) == {sized.scrapes}, f"samples per series {sorted(set(sized.counts))}, {sized.scrapes} scraped"
    assert sized.loss_alerts == []


def test_an_outage_ending_before_the_deleting_truncation_loses_nothing(within_window: PastWindow) -> None:
    outcome = within_window
    assert outcome.wal_writes_failed == 0 and outcome.agent_losses == 0 and not outcome.reader_error
    assert len(outcome.missing) == METRICS * LABELS
    assert set(outcome.missing) == {0}, f"missing scrapes per series {sorted(set(outcome.missing))}"
    assert outcome.alert_value is None


def test_past_the_window_the_loss_is_what_the_truncation_predicts(past_window: PastWindow) -> None:
    outcome = past_window
    # The model's truncation deleted the reader's next segment; the reader failed on it.
    assert re.search(rf"\bfirst=\d+ last=(\d+)", outcome.checkpoint)
    assert int(re.search(r"last=(\d+)", outcome.checkpoint).group(1)) >= outcome.reader_segment + 1
    assert "no such file or directory" in outcome.reader_error
    assert outcome.wal_writes_failed == 0 and outcome.agent_losses == 0
    assert len(outcome.missing) == METRICS * LABELS
    # Each series misses the scrapes between the segment's close and the reader's restart; a scrape
    # straddling either instant may fall on either side.
    assert max(abs(m - outcome.predicted_missing) for m in outcome.missing) <= 1, (
        f"missing {sorted(set(outcome.missing))}, predicted {outcome.predicted_missing}"
    )


def test_past_the_window_the_loss_alert_fires_with_the_count(past_window: PastWindow) -> None:
    outcome = past_window
    assert outcome.alert_value is not None
    predicted = outcome.samples_in_per_second * outcome.lost_seconds
    # A scrape round at either end, and what waits for a batch when the hub computes the lag.
    tolerance = outcome.samples_in_per_second * (2 * SCRAPE_INTERVAL_SECONDS + BATCH_SEND_DEADLINE_SECONDS)
    assert abs(outcome.alert_value - predicted) <= tolerance, f"alert {outcome.alert_value:.0f}, predicted {predicted:.0f}"


def test_the_guard_keeps_a_wal_the_agent_can_open(sized: Outcome) -> None:
    assert sized.wal_kept and sized.guard_output.endswith(": kept"), sized.guard_output


def test_a_full_volume_fails_writes_without_crashing_and_loses_what_came_after(full: Outcome) -> None:
    assert full.alive_after, "the agent crashed on a full WAL volume"
    assert full.wal_writes_failed > 0
    assert sum(full.counts) < full.series * full.scrapes


def test_without_the_guard_a_restart_on_a_full_volume_cannot_open_the_wal(full: Outcome) -> None:
    assert "no space left on device" in full.unguarded_restart_error


def test_with_the_guard_a_restart_on_a_full_volume_starts_and_ships(full: Outcome) -> None:
    assert not full.wal_kept and "deleting" in full.guard_output, full.guard_output
    assert full.guarded_restart_writes_failed == 0
    assert len(full.guarded_restart_counts) == full.series
    assert set(full.guarded_restart_counts) == {full.guarded_restart_scrapes}
