"""Outage lab: the hub goes down for a minute and comes back; the edge loses not one sample.

A real agent runs the config the program renders for the `edge-us-west` stack (components/agent_config.py:
external labels, tenant header, the sized queue, the WAL retention flag), with the lab's load as
the stack's `seriesEstimate` and `scrapeIntervalSeconds`, and writes over mTLS with the edge's
client certificate from the preview through the hub's front door (Debian nginx running the
rendered config: client certificates required) to a real hub Prometheus with the remote-write
receiver. A synthetic exporter logs every
scrape, so the samples each series must have at the hub over a window are exactly the scrapes the
exporter served in it. The hub Prometheus is stopped (SIGTERM) for a minute (tests/lab/outage.py;
the front door answers 502 meanwhile, which the agent retries) and restarted on the same port and
TSDB; the window spans before, during and after.

The hub runs without an out-of-order window: a one-minute outage stays far inside its head's
in-order appendable window (an hour), so any sample replayed out of order would be rejected, and
counted, rather than absorbed.
"""

from __future__ import annotations

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
from tests.lab.metrics import AGENT_LOSS_COUNTERS
from tests.lab.mtls import Hub
from tests.lab.outage import (
    Outcome,
    Timing,
    assert_every_sample_arrived,
    assert_nothing_lost,
    assert_window_spans_the_outage,
    through_outage,
)
from tests.lab.processes import Launcher, Prometheus, free_port

pytestmark = pytest.mark.lab

HUB = "hub-us"
EDGE = "edge-us-west"
"""Its hub, `hub-us`, runs the Prometheus tier: a real Prometheus stands in for the receiver."""
METRICS, LABELS = 20, 100
"""2,000 synthetic series."""
SCRAPE_INTERVAL_SECONDS = 5
TIMING = Timing(interval=SCRAPE_INTERVAL_SECONDS)
RETRIED = "prometheus_remote_storage_samples_retried_total"


def lab_settings() -> EdgeSettings:
    """The edge stack, declaring the lab's load."""
    settings = load(EDGE).settings
    assert isinstance(settings, EdgeSettings)
    return settings.model_copy(
        update={"series_estimate": METRICS * LABELS, "scrape_interval_seconds": SCRAPE_INTERVAL_SECONDS}
    )


def start_agent(
    launcher: Launcher,
    edge: engine.PreviewResult,
    hub: Hub,
    settings: EdgeSettings,
    sizing: EdgeSizing,
    exporter: Exporter,
    address: Optional[str] = None,
) -> Prometheus:
    """The program's agent config for `settings`, plus a scrape of the exporter (at the global
    interval), writing to the hub or to `address` (a proxy in front of it)."""
    workdir = launcher.workdir
    port = free_port()
    config = agent_config(
        settings,
        sizing,
        edge.outputs["remoteWriteUrl"],
        mtls.edge_credentials(edge).files(workdir / "agent-tls"),
        self_target=f"127.0.0.1:{port}",
        address=address or hub.address,
    )
    config["scrape_configs"].append({"job_name": "synthetic", "static_configs": [{"targets": [exporter.address]}]})
    (workdir / "agent.yml").write_text(to_yaml(config))
    agent = launcher.start(
        "agent", *agent_flags(sizing, "agent.yml", "agent-data"), port=port, env=agent_environment(sizing)
    )
    agent.wait_ready_http()
    return agent


@pytest.fixture(scope="module")
def outcome(module_launcher: Launcher, fleet: dict[str, engine.PreviewResult]) -> Outcome:
    edge = fleet[EDGE]
    hub = mtls.start(module_launcher, fleet[HUB])
    settings = lab_settings()
    sizing = for_settings(settings)
    with Exporter(METRICS, LABELS) as exporter:
        agent = start_agent(module_launcher, edge, hub, settings, sizing, exporter)
        selector = Exporter.series_selector(cluster=EDGE)
        return through_outage(module_launcher, hub, exporter, agent, selector, TIMING, (*AGENT_LOSS_COUNTERS, RETRIED))


def test_the_window_spans_the_outage(outcome: Outcome) -> None:
    # The agent's sends failed and were retried.
    assert_window_spans_the_outage(outcome, TIMING, RETRIED)


def test_every_sample_scraped_during_the_outage_reaches_the_hub(outcome: Outcome) -> None:
    assert_every_sample_arrived(outcome, METRICS * LABELS)


def test_nothing_was_dropped_or_rejected(outcome: Outcome) -> None:
    assert_nothing_lost(outcome, AGENT_LOSS_COUNTERS)
