"""Outage lab: the hub goes down for a minute and comes back; the edge loses not one sample.

A real agent runs the config the program renders for the `edge-eu` stack (components/agent_config.py:
external labels, tenant header, the sized queue, the WAL retention flag), with the lab's load as
the stack's `seriesEstimate` and `scrapeIntervalSeconds`, and writes over mTLS with the edge's
client certificate from the preview to a real hub Prometheus serving the rendered web config
(client certificates required) and the remote-write receiver. A synthetic exporter logs every
scrape, so the samples each series must have at the hub over a window are exactly the scrapes the
exporter served in it. The hub is stopped (SIGTERM) for `OUTAGE_SECONDS` and restarted on the same
port and TSDB; the window spans before, during and after.

The hub runs without an out-of-order window: a one-minute outage stays far inside its head's
in-order appendable window (an hour), so any sample replayed out of order would be rejected, and
counted, rather than absorbed.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Optional

import pytest

from components.agent_config import agent_config, agent_environment, agent_flags
from components.edge_sizing import EdgeSizing, for_settings
from components.prometheus_tls import to_yaml
from components.settings import EdgeSettings
from review import engine
from tests.fixture_fleet import load
from tests.lab import mtls
from tests.lab.exporter import Exporter
from tests.lab.metrics import AGENT_LOSS_COUNTERS, HUB_REJECTION_COUNTERS, series_past, window_counts
from tests.lab.mtls import Hub
from tests.lab.processes import Launcher, Prometheus, free_port, wait_for

pytestmark = pytest.mark.lab

EDGE = "edge-eu"
METRICS, LABELS = 20, 100
"""2,000 synthetic series."""
SCRAPE_INTERVAL_SECONDS = 5
BEFORE_SECONDS = 12.0
"""Normal operation inside the window before the hub stops (two or three scrapes)."""
OUTAGE_SECONDS = 60.0
AFTER_SECONDS = 12.0
"""Normal operation inside the window after the restart."""
START_TIMEOUT = 30.0
"""For the first scrape to reach the hub (scrape interval + batch deadline, with margin)."""
CATCH_UP_TIMEOUT = 45.0
"""For the replay to pass the window's end once the hub is back."""
STOP_GRACE = 30.0
"""A clean SIGTERM shutdown: the hub flushes its head before exiting."""
RETRIED = "prometheus_remote_storage_samples_retried_total"


def lab_settings() -> EdgeSettings:
    """The `edge-eu` stack, declaring the lab's load."""
    settings = load(EDGE).settings
    assert isinstance(settings, EdgeSettings)
    return settings.model_copy(
        update={"series_estimate": METRICS * LABELS, "scrape_interval_seconds": SCRAPE_INTERVAL_SECONDS}
    )


def start_agent(
    launcher: Launcher, edge: engine.PreviewResult, hub: Hub, settings: EdgeSettings, sizing: EdgeSizing, exporter: Exporter
) -> Prometheus:
    """The program's agent config for `settings`, plus a scrape of the exporter (at the global interval)."""
    workdir = launcher.workdir
    port = free_port()
    config = agent_config(
        settings,
        sizing,
        edge.outputs["remoteWriteUrl"],
        mtls.edge_credentials(edge).files(workdir / "agent-tls"),
        self_target=f"127.0.0.1:{port}",
        address=hub.process.address,
    )
    config["scrape_configs"].append({"job_name": "synthetic", "static_configs": [{"targets": [exporter.address]}]})
    (workdir / "agent.yml").write_text(to_yaml(config))
    agent = launcher.start(
        "agent", *agent_flags(sizing, "agent.yml", "agent-data"), port=port, env=agent_environment(sizing)
    )
    agent.wait_ready_http()
    return agent


@dataclass(frozen=True)
class Outcome:
    scrapes: int
    """Scrapes the exporter served in the window: the samples every series must have."""
    during_outage: int
    """Of them, while the hub was down."""
    counts: dict[str, int]
    """Samples per synthetic series (its `series` label) at the hub over the window."""
    agent: dict[str, float]
    hub: dict[str, float]


def _all_series_past(hub: Hub, agent: Prometheus, selector: str, series: int, after: float) -> Optional[bool]:
    """True once every series has a sample newer than `after` at the hub: the replay passed it."""
    agent.assert_running()
    return series_past(hub.client.query, selector, series, after)


@pytest.fixture(scope="module")
def outcome(module_launcher: Launcher, fleet: dict[str, engine.PreviewResult]) -> Outcome:
    edge = fleet[EDGE]
    hub = mtls.start(module_launcher, fleet["hub"], mtls.edge_credentials(edge))
    settings = lab_settings()
    sizing = for_settings(settings)
    selector = Exporter.series_selector(cluster=EDGE)
    with Exporter(METRICS, LABELS) as exporter:
        agent = start_agent(module_launcher, edge, hub, settings, sizing, exporter)
        wait_for(
            "the first scrape at the hub",
            lambda: _all_series_past(hub, agent, selector, exporter.series, 0),
            START_TIMEOUT,
        )
        start = time.time()
        time.sleep(BEFORE_SECONDS)
        stopped = time.time()
        hub.process.stop(grace=STOP_GRACE)
        time.sleep(OUTAGE_SECONDS)
        hub.restart(module_launcher, "hub-restarted")
        restarted = time.time()
        time.sleep(AFTER_SECONDS)
        end = time.time()
        low, high, scrapes = wait_for(
            "the exporter's first scrape after the window", lambda: exporter.window(start, end), 2 * SCRAPE_INTERVAL_SECONDS
        )
        wait_for(
            "the agent's replay past the window",
            lambda: _all_series_past(hub, agent, selector, exporter.series, high),
            CATCH_UP_TIMEOUT,
        )
        result = window_counts(hub.client.query, selector, low, high)
        during = sum(low < t <= high and stopped <= t <= restarted for t in exporter.scrapes())
    agent_metrics, hub_metrics = agent.parsed_metrics(), hub.client.parsed_metrics()
    outcome = Outcome(
        scrapes=scrapes,
        during_outage=during,
        counts={r["metric"]["series"]: int(r["value"][1]) for r in result},
        agent={name: agent_metrics.sum(name) for name in (*AGENT_LOSS_COUNTERS, RETRIED)},
        # Since the restart: the whole replay arrived after it.
        hub={name: hub_metrics.sum(name) for name in HUB_REJECTION_COUNTERS},
    )
    print(
        f"\noutage lab: hub down {restarted - stopped:.1f} s; window {high - low:.1f} s, {scrapes} scrapes "
        f"({during} during the outage); samples per series at the hub: {dict(Counter(outcome.counts.values()))}; "
        f"agent {outcome.agent}; hub {outcome.hub}"
    )
    return outcome


def test_the_window_spans_the_outage(outcome: Outcome) -> None:
    assert outcome.during_outage >= OUTAGE_SECONDS // SCRAPE_INTERVAL_SECONDS - 1
    assert outcome.scrapes > outcome.during_outage  # and scrapes before and after it
    # The agent felt the outage: its sends failed and were retried.
    assert outcome.agent[RETRIED] > 0


def test_every_sample_scraped_during_the_outage_reaches_the_hub(outcome: Outcome) -> None:
    assert len(outcome.counts) == METRICS * LABELS, f"{METRICS * LABELS - len(outcome.counts)} series missing at the hub"
    off = {series: n for series, n in outcome.counts.items() if n != outcome.scrapes}
    assert not off, (
        f"{len(off)} series do not hold the {outcome.scrapes} samples scraped in the window: "
        f"counts {sorted(set(off.values()))}"
    )


def test_nothing_was_dropped_or_rejected(outcome: Outcome) -> None:
    assert {name: outcome.agent[name] for name in AGENT_LOSS_COUNTERS} == dict.fromkeys(AGENT_LOSS_COUNTERS, 0.0)
    assert outcome.hub == dict.fromkeys(HUB_REJECTION_COUNTERS, 0.0)
