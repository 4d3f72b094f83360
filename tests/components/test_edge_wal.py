"""The agent's WAL truncation, replayed: Prometheus' default loses unsent samples of a busy edge
inside its buffer, the program's truncation frequency loses none, and the sized volume holds the
WAL's peak."""

from __future__ import annotations

import pytest

from components.edge_sizing import WAL_BYTES_PER_SAMPLE, size_edge, wal_peak_bytes
from components.edge_wal import DEFAULT_TRUNCATE_FREQUENCY_S, Replay, truncation_deleting, truncation_loses_unsent
from labkit.metrics import seconds as seconds_of

OFFSETS = 12
"""Outage starts spread over one truncation period."""
# (series, scrape interval s, buffer h): a small and a busy edge, short and long buffers.
EDGES = [(2_000, 60, 4), (10_000, 30, 4), (50_000, 30, 4), (500_000, 15, 4), (2_000_000, 15, 2), (200_000, 30, 24)]


def _replays(series: int, interval: int, buffer: float, frequency_s: float) -> list[Replay]:
    sizing = size_edge(series, interval, buffer)
    rate = sizing.samples_per_second * WAL_BYTES_PER_SAMPLE
    outage, catch_up = buffer * 3600, sizing.catch_up_hours * 3600
    return [
        truncation_loses_unsent(rate, frequency_s, outage, catch_up, i * frequency_s / OFFSETS) for i in range(OFFSETS)
    ]


@pytest.mark.parametrize(("series", "interval", "buffer"), EDGES)
def test_the_programs_truncation_frequency_loses_nothing_inside_the_buffer(series: int, interval: int, buffer: float) -> None:
    frequency = seconds_of(size_edge(series, interval, buffer).wal_truncate_frequency)
    assert not [r for r in _replays(series, interval, buffer, frequency) if r.lost]


def test_prometheus_default_frequency_loses_a_busy_edges_backlog() -> None:
    # 500K series every 15 s: ~1.1 GB of WAL an hour, many segments per 2 h truncation period.
    lost = [r for r in _replays(500_000, 15, 4, DEFAULT_TRUNCATE_FREQUENCY_S) if r.lost]
    assert len(lost) == OFFSETS


def test_a_small_edge_keeps_its_buffer_even_at_the_default() -> None:
    # Under a segment per period nothing but the checkpointed past is deleted: the gap only opens
    # with the rate, which is why the frequency follows the buffer for every edge.
    assert not [r for r in _replays(10_000, 30, 4, DEFAULT_TRUNCATE_FREQUENCY_S) if r.lost]


@pytest.mark.parametrize(("series", "interval", "buffer"), EDGES)
def test_the_volume_holds_the_wals_peak(series: int, interval: int, buffer: float) -> None:
    sizing = size_edge(series, interval, buffer)
    frequency = seconds_of(sizing.wal_truncate_frequency)
    peak = max(r.peak_bytes for r in _replays(series, interval, buffer, frequency))
    assert peak <= wal_peak_bytes(sizing.samples_per_second, frequency) <= sizing.wal_volume_gib * 2**30


def test_segments_go_two_at_a_time_from_the_fourth_truncation() -> None:
    """Closed only at truncations, segment k holds period k + 1; Prometheus keeps the newest third
    (and at least three segments), so truncation 2m deletes segments 2m - 4 and 2m - 3."""
    assert [truncation_deleting(n) for n in range(8)] == [4, 4, 6, 6, 8, 8, 10, 10]


def test_a_reader_stuck_in_a_segment_keeps_three_to_four_periods() -> None:
    """From the truncation closing its segment n to the one deleting n + 1: the window an outage
    starting in segment n has, in truncation periods."""
    assert {truncation_deleting(n + 1) - (n + 1) for n in range(40)} == {3, 4}
