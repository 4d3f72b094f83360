"""The outage labs' procedure and checks, whatever the agent (Prometheus agent, vmagent).

An agent scrapes a synthetic exporter that logs every scrape and remote-writes to a real hub. The
link is interrupted for `outage` seconds (by default the hub is stopped with SIGTERM and restarted
on the same port and TSDB; the blackhole lab passes its own interruption); the counted window spans
before, during and after. The samples each series must have at the hub are exactly the scrapes the
exporter served in the window. The outcome also says how long after the link returned every series
held a sample scraped after that moment (the catch-up).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from labkit.exporter import Exporter
from labkit.metrics import HUB_REJECTION_COUNTERS, series_past, window_counts
from tests.lab.mtls import Hub
from tests.lab.processes import Launcher, Prometheus, wait_for


@dataclass(frozen=True)
class Timing:
    interval: float
    """The agent's scrape interval."""
    before: float = 12.0
    """Normal operation inside the window before the hub stops (two or three scrapes)."""
    outage: float = 60.0
    after: float = 12.0
    """Normal operation inside the window after the restart."""
    start_timeout: float = 30.0
    """For the first scrape to reach the hub."""
    catch_up_timeout: float = 45.0
    """For the replay to pass the window's end once the hub is back."""
    stop_grace: float = 30.0
    """A clean SIGTERM shutdown: the hub flushes its head before exiting."""


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
    """The hub's rejection counters since the restart: the whole replay arrived after it."""
    outage_seconds: float
    catch_up_seconds: float


Interrupt = Callable[[], Callable[[], None]]
"""Interrupts the link to the hub; returns what restores it."""


def stopping_the_hub(launcher: Launcher, hub: Hub, timing: Timing) -> Interrupt:
    def stop() -> Callable[[], None]:
        hub.process.stop(grace=timing.stop_grace)
        return lambda: hub.restart(launcher, "hub-restarted")

    return stop


def plaintext(config: dict[str, Any]) -> dict[str, Any]:
    """An agent config with its remote write over plain HTTP (labs whose subject is not mTLS)."""
    [entry] = config["remote_write"]
    del entry["tls_config"]
    entry["url"] = entry["url"].replace("https://", "http://", 1)
    return config


def through_outage(
    launcher: Launcher,
    hub: Hub,
    exporter: Exporter,
    agent: Prometheus,
    selector: str,
    timing: Timing,
    agent_counters: Sequence[str],
    interrupt: Optional[Interrupt] = None,
) -> Outcome:
    """Run the outage on a started `agent` scraping `exporter`; count what reached the hub.
    `interrupt`: how the link goes down (default: the hub stops)."""
    interrupt = interrupt or stopping_the_hub(launcher, hub, timing)

    def all_past(after: float) -> Optional[bool]:
        agent.assert_running()
        return series_past(hub.process.query, selector, exporter.series, after)

    wait_for("the first scrape at the hub", lambda: all_past(0), timing.start_timeout)
    start = time.time()
    time.sleep(timing.before)
    stopped = time.time()
    restore = interrupt()
    time.sleep(timing.outage)
    restore()
    restarted = time.time()
    wait_for(f"{agent.name}'s catch-up", lambda: all_past(restarted), timing.catch_up_timeout)
    caught_up = time.time()
    time.sleep(max(0.0, restarted + timing.after - caught_up))
    end = time.time()
    window: Callable[[], Optional[tuple[float, float, int]]] = lambda: exporter.window(start, end)  # noqa: E731
    low, high, scrapes = wait_for("the exporter's first scrape after the window", window, 2 * timing.interval)
    wait_for(f"{agent.name}'s replay past the window", lambda: all_past(high), timing.catch_up_timeout)
    result = window_counts(hub.process.query, selector, low, high)
    during = sum(low < t <= high and stopped <= t <= restarted for t in exporter.scrapes())
    agent_metrics, hub_metrics = agent.parsed_metrics(), hub.process.parsed_metrics()
    outcome = Outcome(
        scrapes=scrapes,
        during_outage=during,
        counts={r["metric"]["series"]: int(r["value"][1]) for r in result},
        agent={name: agent_metrics.sum(name) for name in agent_counters},
        hub={name: hub_metrics.sum(name) for name in HUB_REJECTION_COUNTERS},
        outage_seconds=restarted - stopped,
        catch_up_seconds=caught_up - restarted,
    )
    print(
        f"\n{agent.name} outage lab: link down {outcome.outage_seconds:.1f} s, caught up "
        f"{outcome.catch_up_seconds:.1f} s after; window {high - low:.1f} s, {scrapes} "
        f"scrapes ({during} during the outage); samples per series at the hub: "
        f"{dict(Counter(outcome.counts.values()))}; agent {outcome.agent}; hub {outcome.hub}"
    )
    return outcome


def assert_window_spans_the_outage(outcome: Outcome, timing: Timing, send_errors: str) -> None:
    assert outcome.during_outage >= timing.outage // timing.interval - 1
    assert outcome.scrapes > outcome.during_outage  # and scrapes before and after it
    # The agent felt the outage: its sends failed.
    assert outcome.agent[send_errors] > 0


def assert_every_sample_arrived(outcome: Outcome, series: int) -> None:
    assert len(outcome.counts) == series, f"{series - len(outcome.counts)} series missing at the hub"
    off = {name: n for name, n in outcome.counts.items() if n != outcome.scrapes}
    assert not off, (
        f"{len(off)} series do not hold the {outcome.scrapes} samples scraped in the window: "
        f"counts {sorted(set(off.values()))}"
    )


def assert_nothing_lost(outcome: Outcome, loss_counters: Sequence[str]) -> None:
    assert {name: outcome.agent[name] for name in loss_counters} == dict.fromkeys(loss_counters, 0.0)
    assert outcome.hub == dict.fromkeys(HUB_REJECTION_COUNTERS, 0.0)
