"""What the labs and the benches read from Prometheus (standard library only).

`Metrics(text).sum(name, **labels)` parses a Prometheus text exposition (a process's own /metrics);
the counter tuples are the ones the outage labs require to stay at zero; `count_matching` and
`window_counts` are the hub-side queries of those labs, given any instant-query function
`query(expr, at=None) -> result vector`.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Metrics:
    """A parsed Prometheus text exposition: `{name: [(labels, value), ...]}`."""

    def __init__(self, text: str):
        self.series: dict[str, list[tuple[dict[str, str], float]]] = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            if "}" in line:
                head, rest = line.rsplit("}", 1)
                name, _, label_text = head.partition("{")
                labels = dict(_LABEL.findall(label_text))
            else:
                name, rest = line.split(" ", 1)
                labels = {}
            self.series.setdefault(name, []).append((labels, float(rest.split()[0])))

    def sum(self, name: str, **match: str) -> float:
        """Sum of `name` over the label sets that carry every `match` label (0 when absent)."""
        return sum(v for labels, v in self.series.get(name, ()) if all(labels.get(k) == w for k, w in match.items()))


# --- the outage labs' counters and hub queries ----------------------------------------------------

AGENT_LOSS_COUNTERS = (
    "prometheus_remote_storage_samples_failed_total",
    "prometheus_remote_storage_samples_dropped_total",
)
"""Samples an agent gave up on (the hub's 4xx) or dropped."""
VMAGENT_LOSS_COUNTERS = (
    "vmagent_remotewrite_packets_dropped_total",
    "vm_persistentqueue_blocks_dropped_total",
)
"""Blocks vmagent gave up on (the hub's 4xx) or dropped from a full disk buffer."""
HUB_REJECTION_COUNTERS = (
    "prometheus_tsdb_out_of_bound_samples_total",
    "prometheus_tsdb_out_of_order_samples_total",
    "prometheus_tsdb_too_old_samples_total",
)
"""Samples a hub's TSDB refused."""

def seconds(text: str) -> float:
    """A Prometheus duration with one unit, as the program renders them (`360m`, `5s`, `100ms`)."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", text)
    assert match, f"not a single-unit Prometheus duration: {text!r}"
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return int(match.group(1)) * unit


Query = Callable[..., list[dict[str, Any]]]
"""An instant query: `query(expr, at=None)` -> the result vector."""


def count_matching(query: Query, expr: str, series: int) -> Optional[bool]:
    """True once `count(expr)` reaches `series` (a `wait_for` probe); None before."""
    result = query(f"count({expr})")
    return True if result and int(result[0]["value"][1]) == series else None


def series_past(query: Query, selector: str, series: int, after: float) -> Optional[bool]:
    """True once every one of the `series` series of `selector` has a sample newer than `after`."""
    return count_matching(query, f"timestamp({selector}) > {after:.3f}", series)


def window_counts(query: Query, selector: str, low: float, high: float) -> list[dict[str, Any]]:
    """Samples per series of `selector` in the window (low, high]: `count_over_time` at `high`."""
    return query(f"count_over_time({selector}[{round((high - low) * 1000)}ms])", at=high)
