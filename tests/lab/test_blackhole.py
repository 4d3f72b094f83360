"""Blackhole lab: the link to the hub silently drops everything for a minute (the common cloud
partition: no reset, no refusal; the agent only learns of it from its own timeouts), then heals.
The edge loses not one sample, and the lab reports how long the agent took to catch up.

A loopback proxy (tests/lab/proxy.py) sits between the agent and the hub and, while blackholed,
accepts connections but moves no byte in either direction. The agent and the count are the outage
lab's (tests/lab/test_outage.py, tests/lab/agent_lab.py, tests/lab/outage.py).
"""

from __future__ import annotations

from typing import Callable, Iterator

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
from tests.lab.proxy import TcpProxy

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def outcome(module_launcher: Launcher, fleet: dict[str, engine.PreviewResult]) -> Iterator[Outcome]:
    edge = fleet[EDGE]
    hub = mtls.start(module_launcher, fleet[HUB])
    settings = lab_settings()
    with Exporter(METRICS, LABELS) as exporter, TcpProxy(hub.address) as link:
        agent = start_agent(module_launcher, edge, hub, settings, for_settings(settings), exporter, link.address)

        def blackhole() -> Callable[[], None]:
            link.blackhole()
            return link.restore

        selector = Exporter.series_selector(cluster=EDGE)
        yield through_outage(
            module_launcher, hub, exporter, agent, selector, TIMING, (*AGENT_LOSS_COUNTERS, RETRIED), blackhole
        )


def test_the_window_spans_the_blackhole(outcome: Outcome) -> None:
    # The agent's sends timed out and were retried.
    assert_window_spans_the_outage(outcome, TIMING, RETRIED)


def test_every_sample_scraped_during_the_blackhole_reaches_the_hub(outcome: Outcome) -> None:
    assert_every_sample_arrived(outcome, METRICS * LABELS)


def test_nothing_was_dropped_or_rejected(outcome: Outcome) -> None:
    assert_nothing_lost(outcome, AGENT_LOSS_COUNTERS)
