"""Scaled long-outage lab: an edge cut off for several hours loses nothing at a hub
configured by the program, and does lose data at a hub without its out-of-order window.

A hub's TSDB head appends a series' samples in order only down to half a block range (1 h with
Prometheus' default 2 h blocks) behind the newest sample it holds from any edge. While one edge is
cut off the others keep that head moving, so when the cut edge replays its WAL, the part of the
outage older than that is out of bounds, unless the hub has an out-of-order window; the program
sets one from its edges' `bufferHours` (components/hub_sizing.py).

The lab compresses time: one real-world hour lasts `LAB_SECONDS_PER_HOUR` seconds. Block ranges,
the out-of-order window and the outage are scaled by it; scrape interval, batch deadline and retry
backoff stay real (they are seconds in both worlds), and `scaled_windows` checks they still fit.
Two Prometheus-tier hubs run at once from the fixture `hub` stack's config, one without and one with the window;
each gets the `edge-eu` and `edge-eu-north` agents (fixture stacks), each agent scraping its own
synthetic exporter; `edge-eu` writes through a proxy that is cut for `OUTAGE_HOURS`. The number of
samples each series should have is the number of scrapes its exporter served in the window.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import pytest

from components.edge_sizing import EdgeSizing, duration, size_edge
from components.endpoints import ingest_endpoints
from components.hub_plan import HubPlan
from components.hub_sizing import IngestLoad, receiver
from components.prometheus_tls import TlsFiles, to_yaml
from components.settings import EdgeSettings, HubSettings, Tier
from labkit.agent_config import agent_config, agent_environment, agent_flags
from labkit.exporter import Exporter
from labkit.metrics import AGENT_LOSS_COUNTERS, HUB_REJECTION_COUNTERS, count_matching, seconds, window_counts
from tests.fixture_fleet import load
from tests.lab.outage import plaintext
from tests.lab.processes import Launcher, Prometheus, free_port, wait_for
from tests.lab.proxy import TcpProxy

pytestmark = pytest.mark.lab

# --- the scale ---------------------------------------------------------------------------------
LAB_SECONDS_PER_HOUR = 20.0
"""One real-world hour lasts this long here. Large enough that an hour outlasts the unscaled delays
of a replay (batch deadline + retry backoff, 10 s with the program's queue), small enough that a
3 h outage takes a minute."""
PROMETHEUS_BLOCK_HOURS = 2.0
"""Prometheus' default `--storage.tsdb.min-block-duration`, the head's chunk range."""
MAX_BLOCK_FRACTION_OF_RETENTION = 0.1
"""Prometheus' default `--storage.tsdb.max-block-duration`: a tenth of the retention (at most 31 d)."""
OUTAGE_HOURS = 3.0
"""The cut edge's outage: three appendable windows, an hour inside its 4 h WAL buffer."""

# --- the fleet under test ----------------------------------------------------------------------
HUB_STACK = "hub"
CUT_EDGE, STEADY_EDGE = "edge-eu", "edge-eu-north"

# --- unscaled lab parameters -------------------------------------------------------------------
SCRAPE_INTERVAL_SECONDS = 1
METRICS, LABELS = 20, 10
"""200 synthetic series per exporter."""
SETTLE_SECONDS = 3.0
"""Of in-order data before the cut and after the restore, inside the counted window."""
START_TIMEOUT = 30.0
DELIVERY_TIMEOUT = 45.0
OOO_APPENDED = "prometheus_tsdb_head_out_of_order_samples_appended_total"


def lab_seconds(real_seconds: float) -> float:
    return real_seconds * LAB_SECONDS_PER_HOUR / 3600


@dataclass(frozen=True)
class ScaledWindows:
    """Lab seconds."""

    min_block: float
    max_block: float
    appendable: float
    """How far behind the head's max time a series still appends in order: half the chunk range."""
    out_of_order: float
    outage: float


def scaled_windows(hub: HubSettings, cut_edge: EdgeSizing) -> ScaledWindows:
    """The hub's TSDB windows and the outage, scaled; fails if the scale breaks the scenario."""
    real_ooo = seconds(receiver(IngestLoad.of(hub.edges), hub.retention.metrics).out_of_order_window)
    block = lab_seconds(PROMETHEUS_BLOCK_HOURS * 3600)
    windows = ScaledWindows(
        min_block=block,
        max_block=lab_seconds(hub.retention.metrics * 86_400 * MAX_BLOCK_FRACTION_OF_RETENTION),
        appendable=block / 2,
        out_of_order=lab_seconds(real_ooo),
        outage=lab_seconds(OUTAGE_HOURS * 3600),
    )
    replay_delay = seconds(cut_edge.queue.batch_send_deadline) + seconds(cut_edge.queue.max_backoff)
    assert windows.outage >= 2 * windows.appendable, "the outage must span several appendable windows"
    assert windows.outage + replay_delay < windows.out_of_order, (
        f"the replay (outage {windows.outage:.0f} s + {replay_delay:.0f} s of deadline and backoff) must fit "
        f"the scaled out-of-order window ({windows.out_of_order:.0f} s): raise LAB_SECONDS_PER_HOUR"
    )
    return windows


def hub_config(windows: ScaledWindows, with_ooo: bool) -> dict[str, Any]:
    """The hub's prometheus.yml: only the key the operator renders from `tsdb.outOfOrderTimeWindow`
    (2.42 has no flag for it); the hub scrapes nothing."""
    if not with_ooo:
        return {}
    return {"storage": {"tsdb": {"out_of_order_time_window": duration(windows.out_of_order)}}}


def hub_flags(windows: ScaledWindows, config_file: str, data_dir: str) -> list[str]:
    return [
        f"--config.file={config_file}",
        "--web.enable-remote-write-receiver",
        f"--storage.tsdb.path={data_dir}",
        f"--storage.tsdb.min-block-duration={duration(windows.min_block)}",
        f"--storage.tsdb.max-block-duration={duration(windows.max_block)}",
    ]


def edge_sizing(edge: EdgeSettings) -> EdgeSizing:
    """The program's queue for this edge at the lab's load (its stack's overrides included)."""
    return size_edge(METRICS * LABELS, SCRAPE_INTERVAL_SECONDS, edge.buffer_hours, overrides=edge.queue)


def lab_agent_config(
    edge: EdgeSettings, hub: HubSettings, target: str, self_port: int, exporter: Exporter
) -> dict[str, Any]:
    """The program's agent config (external labels, tenant header, queue) plus the exporter's scrape.

    The link is plain HTTP on loopback: mTLS is test_mtls_lab's subject, the TSDB windows this one's.
    """
    config = agent_config(
        edge,
        edge_sizing(edge),
        ingest_endpoints(HubPlan.of(hub)).remote_write_url,
        TlsFiles(ca_file=""),  # dropped below with the rest of tls_config
        self_target=f"127.0.0.1:{self_port}",
        address=target,
    )
    plaintext(config)
    config["scrape_configs"].append(
        {
            "job_name": "synthetic",
            "scrape_interval": duration(SCRAPE_INTERVAL_SECONDS),
            "static_configs": [{"targets": [exporter.address]}],
        }
    )
    return config


@dataclass
class Edge:
    settings: EdgeSettings
    exporter: Exporter
    agent: Prometheus

    @property
    def selector(self) -> str:
        return Exporter.series_selector(cluster=self.settings.cluster)


@dataclass(frozen=True)
class Delivery:
    """One edge's synthetic series at its hub over the counted window."""

    expected_per_series: int
    counts: list[int]
    """Samples per series at the hub (series the hub lacks are missing, not zero)."""
    series: int
    agent_losses: float
    """Samples the agent itself gave up on (the hub's 4xx) or dropped."""

    @property
    def expected(self) -> int:
        return self.expected_per_series * self.series

    @property
    def lost(self) -> int:
        return self.expected - sum(self.counts)


@dataclass(frozen=True)
class Outcome:
    deliveries: dict[str, Delivery]
    rejected: dict[str, float]
    """The hub's rejection counters."""
    out_of_order_appended: float


@dataclass
class Case:
    """One hub and its two edges."""

    name: str
    hub: Prometheus
    edges: dict[str, Edge]
    link: TcpProxy
    """The cut edge's link to the hub."""


def start_case(
    launcher: Launcher, resources: ExitStack, name: str, hub: HubSettings, windows: ScaledWindows, with_ooo: bool
) -> Case:
    workdir = launcher.workdir
    (workdir / f"{name}-hub.yml").write_text(to_yaml(hub_config(windows, with_ooo)))
    hub_process = launcher.start(f"{name}-hub", *hub_flags(windows, f"{name}-hub.yml", f"{name}-hub-data"))
    link = resources.enter_context(TcpProxy(hub_process.address))
    edges = {}
    for edge_name in (CUT_EDGE, STEADY_EDGE):
        settings = load(edge_name).settings
        assert isinstance(settings, EdgeSettings) and edge_name in {e.name for e in hub.edges}
        exporter = resources.enter_context(Exporter(METRICS, LABELS))
        port = free_port()
        target = link.address if edge_name == CUT_EDGE else hub_process.address
        agent_name = f"{name}-{edge_name}"
        (workdir / f"{agent_name}.yml").write_text(to_yaml(lab_agent_config(settings, hub, target, port, exporter)))
        sizing = edge_sizing(settings)
        flags = agent_flags(sizing, f"{agent_name}.yml", f"{agent_name}-data")
        agent = launcher.start(agent_name, *flags, port=port, env=agent_environment(sizing))
        edges[edge_name] = Edge(settings, exporter, agent)
    return Case(name, hub_process, edges, link)


def _series_at_hub(case: Case, edge: Edge, expr: str) -> Optional[bool]:
    """True once `count(expr)` at the hub reaches the edge's series count."""
    case.hub.assert_running()
    edge.agent.assert_running()
    return count_matching(case.hub.query, expr, edge.exporter.series)


def measure(case: Case, start: float, end: float) -> Outcome:
    """Each edge's samples per series over the scrapes between `start` and `end`, once delivered."""
    deliveries = {}
    for name, edge in case.edges.items():
        low, high, scrapes = wait_for(
            f"{edge.agent.name}'s exporter to be scraped after the window", lambda: edge.exporter.window(start, end), 10
        )
        # Every series holds a sample newer than the window: the agent sent (or gave up on) the
        # whole window, each series in order.
        wait_for(
            f"every {name} series at {case.hub.name} past the window",
            lambda: _series_at_hub(case, edge, f"timestamp({edge.selector}) > {high:.3f}"),
            DELIVERY_TIMEOUT,
        )
        result = window_counts(case.hub.query, edge.selector, low, high)
        agent_metrics = edge.agent.parsed_metrics()
        deliveries[name] = Delivery(
            expected_per_series=scrapes,
            counts=[int(r["value"][1]) for r in result],
            series=edge.exporter.series,
            agent_losses=sum(agent_metrics.sum(counter) for counter in AGENT_LOSS_COUNTERS),
        )
    hub_metrics = case.hub.parsed_metrics()
    return Outcome(
        deliveries,
        {counter: hub_metrics.sum(counter) for counter in HUB_REJECTION_COUNTERS},
        hub_metrics.sum(OOO_APPENDED),
    )


@pytest.fixture(scope="module")
def hub() -> HubSettings:
    """The EU hub in the Prometheus tier (its opt-in for shared hubs): the window under test is the
    single receiver's; the Mimir tier takes the same window per tenant."""
    settings = load(HUB_STACK).settings
    assert isinstance(settings, HubSettings)
    return settings.model_copy(update={"scale": settings.scale.model_copy(update={"tier": Tier.PROMETHEUS})})


@pytest.fixture(scope="module")
def windows(hub: HubSettings) -> ScaledWindows:
    cut = load(CUT_EDGE).settings
    assert isinstance(cut, EdgeSettings)
    assert OUTAGE_HOURS < cut.buffer_hours, f"{CUT_EDGE}'s WAL ({cut.buffer_hours} h) must outlast the outage"
    return scaled_windows(hub, edge_sizing(cut))


@pytest.fixture(scope="module")
def outcomes(module_launcher: Launcher, hub: HubSettings, windows: ScaledWindows) -> Iterator[dict[str, Outcome]]:
    """Both hubs side by side on one timeline: start, settle, cut edge-eu, restore, settle, count."""
    began = time.monotonic()
    with ExitStack() as resources:
        cases = [
            start_case(module_launcher, resources, "no-ooo", hub, windows, with_ooo=False),
            start_case(module_launcher, resources, "program", hub, windows, with_ooo=True),
        ]
        for case in cases:
            for name, edge in case.edges.items():
                wait_for(f"{name}'s series at {case.hub.name}", lambda: _series_at_hub(case, edge, edge.selector), START_TIMEOUT)
        start = time.time()
        time.sleep(SETTLE_SECONDS)
        for case in cases:
            case.link.cut()
        time.sleep(windows.outage)
        for case in cases:
            case.link.restore()
        time.sleep(SETTLE_SECONDS)
        end = time.time()
        results = {case.name: measure(case, start, end) for case in cases}
        print(f"\nlong-outage lab ({time.monotonic() - began:.0f} s): {windows}")
        for name, outcome in results.items():
            lost = ", ".join(f"{edge} {d.lost}/{d.expected}" for edge, d in outcome.deliveries.items())
            print(f"  {name}: lost {lost}; rejected {outcome.rejected}; OOO appended {outcome.out_of_order_appended:.0f}")
        yield results


def _assert_complete(delivery: Delivery, who: str) -> None:
    assert delivery.expected_per_series > 0
    assert len(delivery.counts) == delivery.series, f"{who}: {delivery.series - len(delivery.counts)} series missing"
    short = [c for c in delivery.counts if c != delivery.expected_per_series]
    assert not short, f"{who}: {len(short)} series off the {delivery.expected_per_series} scrapes: {sorted(set(short))}"
    assert delivery.agent_losses == 0, f"{who}: the agent gave up on {delivery.agent_losses:.0f} samples"


def test_without_the_out_of_order_window_the_replay_is_rejected(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["no-ooo"]
    cut = outcome.deliveries[CUT_EDGE]
    assert outcome.rejected["prometheus_tsdb_out_of_bound_samples_total"] > 0
    assert cut.lost > 0 and min(cut.counts, default=0) < cut.expected_per_series
    # The agent was told (4xx) and dropped the rejected batches rather than retrying forever.
    assert cut.agent_losses > 0
    # Only the late edge loses: the steady one kept the head moving, in order.
    _assert_complete(outcome.deliveries[STEADY_EDGE], f"{STEADY_EDGE} at the hub without the window")


def test_with_the_programs_out_of_order_window_no_sample_is_lost(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["program"]
    assert outcome.rejected == dict.fromkeys(HUB_REJECTION_COUNTERS, 0.0)
    # The replay really reached behind the appendable window: the out-of-order head took part of it.
    assert outcome.out_of_order_appended > 0
    for name, delivery in outcome.deliveries.items():
        _assert_complete(delivery, f"{name} at the program's hub")
