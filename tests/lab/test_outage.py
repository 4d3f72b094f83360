"""Outage lab: the hub goes down for a minute and comes back; the edge loses not one sample.

A real agent runs the config the program renders for the `edge-us-west` stack (labkit/agent_config.py:
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

import pytest

from components.edge_sizing import for_settings
from labkit.exporter import Exporter
from labkit.metrics import AGENT_LOSS_COUNTERS
from review import engine
from tests.lab import mtls
from tests.lab.agent_lab import LABELS, METRICS, RETRIED, TIMING, lab_settings, start_agent
from tests.lab.mtls import EDGE, HUB
from tests.lab.outage import (
    Outcome,
    assert_every_sample_arrived,
    assert_nothing_lost,
    assert_window_spans_the_outage,
    through_outage,
)
from tests.lab.processes import Launcher

pytestmark = pytest.mark.lab


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
