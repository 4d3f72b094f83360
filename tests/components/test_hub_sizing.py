"""The hub sizing model: derived from the measured per-sample and per-series costs."""

from __future__ import annotations

import math

import pytest

from components import hub_sizing
from components.hub_sizing import GIB, KIB, MIB, IngestLoad, mimir, receiver, tenant_limits
from components.settings import EdgeRef, EdgeSettings


def _edges(count: int, series: int = 50_000) -> list[EdgeRef]:
    return [EdgeRef(name=f"edge-{i}", region="eu-west-1", series_estimate=series) for i in range(count)]


def test_load_assumes_fifteen_second_scrapes() -> None:
    load = IngestLoad.of([*_edges(1, 80_000), *_edges(1, 40_000)])
    assert load.series == 120_000
    assert load.samples_per_second == pytest.approx(8_000)


def test_receiver_memory_follows_measured_rss_per_series() -> None:
    sizing = receiver(IngestLoad.of(_edges(10)), retention_days=30)
    series = 500_000
    expected = 41 * MIB + 512 * MIB + series * (4.2 * KIB + 512) * 1.5
    assert sizing.resources.memory_bytes == pytest.approx(expected, abs=1)
    helm = sizing.resources.helm()
    assert helm["requests"]["memory"] == helm["limits"]["memory"], "memory request = limit"
    assert "cpu" not in helm["limits"], "no CPU limit: throttling a receiver lengthens its backlog"


def test_receiver_cpu_covers_recovery_from_an_outage() -> None:
    load = IngestLoad.of(_edges(60))  # 200K samples/s
    sizing = receiver(load, retention_days=30)
    steady_cores = load.samples_per_second * 10e-6
    assert sizing.resources.cpu_millicores == math.ceil(steady_cores * 3 * 1000)
    # With 3x the steady rate, a 4 h outage's backlog drains in 2 h.
    assert 4 / (sizing.resources.cpu_millicores / 1000 / steady_cores - 1) == pytest.approx(2)


def test_small_receiver_gets_the_cpu_floor() -> None:
    assert receiver(IngestLoad.of(_edges(1, 1_000)), 30).resources.cpu_millicores == hub_sizing.MIN_CPU_MILLICORES


def test_receiver_disk_holds_retention_and_leaves_headroom() -> None:
    load = IngestLoad.of(_edges(2))
    short, long = receiver(load, 15), receiver(load, 30)
    blocks = 30 * 86_400 * load.samples_per_second * 2
    assert long.disk_bytes >= blocks * 1.2
    assert long.disk_bytes > short.disk_bytes
    assert long.retention_size_bytes == int(long.disk_bytes * 0.85)
    assert long.disk_bytes % GIB == 0


def test_mimir_ingesters_spread_series_over_three_zones() -> None:
    sizing = mimir(IngestLoad.of(_edges(150)))  # 7.5M series
    assert sizing.ingesters_per_zone == 5
    assert sizing.ingesters == 15
    assert sizing.ingester.memory_bytes < 12 * GIB, "an ingester's share fits a common node"
    assert sizing.distributors >= hub_sizing.MIN_DISTRIBUTORS
    assert sizing.distributor.cpu_millicores <= hub_sizing.MAX_DISTRIBUTOR_CORES * 1000


def test_mimir_scales_out_not_up() -> None:
    small, large = mimir(IngestLoad.of(_edges(150))), mimir(IngestLoad.of(_edges(500)))
    assert large.ingesters_per_zone > small.ingesters_per_zone
    assert large.distributors > small.distributors
    assert large.ingester.memory_bytes <= small.ingester.memory_bytes * 1.2


def test_tenant_limits_follow_the_edge() -> None:
    limits = tenant_limits(EdgeRef(name="edge-big", region="eu-west-1", series_estimate=400_000))
    assert limits.max_global_series == 600_000
    assert limits.ingestion_rate == 80_000


def test_out_of_order_window_is_the_longest_edge_buffer() -> None:
    assert EdgeSettings.model_fields["buffer_hours"].default == EdgeRef.model_fields["buffer_hours"].default == 4
    assert receiver(IngestLoad.of(_edges(2)), 30).out_of_order_window == "240m"
    long = EdgeRef(name="edge-far", region="eu-north-1", buffer_hours=6.5)
    load = IngestLoad.of([*_edges(2), long])
    assert load.replay_hours == 6.5
    assert receiver(load, 30).out_of_order_window == mimir(load).out_of_order_window == "390m"


def test_a_longer_edge_buffer_buys_replay_disk() -> None:
    short = receiver(IngestLoad.of(_edges(2)), 30)
    longer = receiver(IngestLoad.of([*_edges(1), EdgeRef(name="x", region="eu-west-1", buffer_hours=24)]), 30)
    assert longer.disk_bytes > short.disk_bytes