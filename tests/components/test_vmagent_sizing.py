"""vmagent sizing: the disk buffer follows bufferHours and the load, memory and CPU the series."""

from __future__ import annotations

import pytest

from components import vmagent_sizing as model
from components.vmagent_sizing import size_vmagent

RTT = 0.05


def test_the_disk_cap_holds_buffer_hours_of_samples_at_the_measured_size() -> None:
    big = size_vmagent(1_000_000, 15, 6, RTT)
    samples = 1_000_000 / 15 * 6 * 3600
    assert big.max_disk_usage_bytes >= samples * model.BUFFER_BYTES_PER_SAMPLE
    assert big.max_disk_usage_bytes == pytest.approx(samples * model.BUFFER_BYTES_PER_SAMPLE * model.BUFFER_MARGIN, rel=1e-6)
    # Twice the hours, twice the cap; and the volume holds the cap plus the chunk kept beyond it.
    assert size_vmagent(1_000_000, 15, 12, RTT).max_disk_usage_bytes == pytest.approx(2 * big.max_disk_usage_bytes, rel=1e-6)
    assert big.volume_gib * 2**30 >= big.max_disk_usage_bytes + model.CHUNK_BYTES


def test_a_small_edge_gets_vmagents_practical_minimum() -> None:
    small = size_vmagent(1_000, 60, 1, RTT)
    assert small.max_disk_usage_bytes == model.MIN_DISK_USAGE_BYTES
    assert small.volume_gib == 1


def test_memory_and_cpu_follow_the_series() -> None:
    a, b = size_vmagent(50_000, 15, 4, RTT), size_vmagent(100_000, 15, 4, RTT)
    assert b.resources.memory_request_mib > a.resources.memory_request_mib
    assert a.resources.memory_request_mib == pytest.approx(model.BASE_RSS_MIB + 50_000 * model.RSS_PER_SERIES_KIB / 1024, abs=1)
    assert a.resources.memory_limit_mib > a.resources.memory_request_mib * model.RSS_PEAK_RATIO
    assert b.resources.cpu_request_millicores > a.resources.cpu_request_millicores
    assert "limits" not in a.resources.kubernetes() or "cpu" not in a.resources.kubernetes()["limits"]


def test_one_queue_keeps_each_series_in_order_until_the_load_needs_more() -> None:
    assert size_vmagent(80_000, 30, 4, RTT).queues == 1
    # A million series every 5 s at a 200 ms round trip: one request in flight cannot carry the recovery rate.
    assert size_vmagent(1_000_000, 5, 4, 0.2).queues > 1


@pytest.mark.parametrize("args", [(0, 15, 4, RTT), (1, 0, 4, RTT), (1, 15, 0, RTT), (1, 15, 4, 0)])
def test_non_positive_inputs_are_refused(args: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        size_vmagent(*args)  # type: ignore[arg-type]
