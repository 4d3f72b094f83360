"""The edge sizing model: outputs at 10K-1M series x 5-200 ms RTT, monotonic properties, the memory
bound, the measured anchors, and `obsfleet:hubRttMs` reaching the model."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from components import edge_sizing as model
from components.edge_sizing import batch_size, duration, for_settings, shard_throughput, size_edge
from components.hub_sizing import RECOVERY_HEADROOM
from components.settings import ConfigError, QueueOverrides
from tests.components.settings_samples import edge_settings

B = model.RSS_PER_PENDING_SAMPLE_BYTES
SERIES = (10_000, 50_000, 200_000, 1_000_000)
RTTS_MS = (5, 50, 200)

# (series, RTT ms) -> (max_samples_per_send, capacity, max_shards, memory limit Mi), at the edge
# defaults: 30 s scrape, 4 h buffer. Worked examples (t = 11.4 us receiver time per sample, 312 B per
# held sample, budget = 2% of 41 MiB + 4.2 KiB x series, the hub takes at most 3x an edge's rate):
# - 50K @ 50 ms: the RTT wants 0.05 / 11.4e-6 = 4,386 -> 4,500 samples per batch, but the 4.92 MiB
#   budget holds 16.5K samples: 2 shards x 2 batches (one queued, one in flight) of at most 4,132
#   -> 4,000. A shard moves 4,000 / (0.05 + 0.0456) = 41.8K/s; the hub takes 3 x 1,667 = 5K/s ->
#   1 shard, + 1 spare = 2. 2 x (4,000 + 4,000) x 312 B = 4.8 MiB; limit 1.5 x (246.1 x 1.107 + 4.8) = 416 Mi.
# - 1M @ 200 ms: 0.2 / 11.4e-6 = 17.5K -> 10,000 (upper bound); 10,000 / (0.2 + 0.114) = 31.8K/s per
#   shard; 100K/s -> 4 shards, 4 x 20,000 x 312 B = 23.8 MiB of the 82.9 MiB budget.
# - 1M @ 5 ms: 0.005 / 11.4e-6 = 439 -> 500; 500 / (0.005 + 0.0057) = 46.7K/s -> 100K/s on 3 shards.
# - 10K @ 200 ms: the 1.64 MiB budget (5.5K samples, 4 batches) keeps the batch at 1,000 whatever
#   the RTT; a shard still moves 1,000 / 0.2114 = 4.7K/s, 4.7x the 1K/s the hub takes from this edge.
GRID: dict[tuple[int, int], tuple[int, int, int, int]] = {
    (10_000, 5): (500, 500, 2, 138),
    (10_000, 50): (1_000, 1_000, 2, 138),
    (10_000, 200): (1_000, 1_000, 2, 138),
    (50_000, 5): (500, 500, 2, 410),
    (50_000, 50): (4_000, 4_000, 2, 416),
    (50_000, 200): (4_000, 4_000, 2, 416),
    (200_000, 5): (500, 500, 2, 1_432),
    (200_000, 50): (4_500, 4_500, 2, 1_439),
    (200_000, 200): (10_000, 10_000, 2, 1_449),
    (1_000_000, 5): (500, 500, 3, 6_880),
    (1_000_000, 50): (4_500, 4_500, 3, 6_891),
    (1_000_000, 200): (10_000, 10_000, 4, 6_915),
}
# series -> (cpu m, memory request Mi, WAL GiB): independent of the RTT. WAL: the buffer (4 h) drains
# in 4 / (3 - 1) = 2 h, so the WAL truncates every 2 x (4 + 2) = 12 h and peaks at 1.5 x 12 h of
# samples plus three 128 MiB segments, x 1.25: 1M series at 30 s = 33.3K samples/s x 9.43 B x 18 h
# = 20.4 GB + 0.4 GiB -> 24.1 GiB -> 25.
STEADY = {10_000: (40, 83, 1), 50_000: (47, 247, 2), 200_000: (72, 862, 6), 1_000_000: (205, 4_143, 25)}


def _size(series: int, rtt_ms: int, **kwargs: Any) -> model.EdgeSizing:
    return size_edge(series, 30, 4, rtt_seconds=rtt_ms / 1000, **kwargs)


@pytest.mark.parametrize(("series", "rtt_ms"), sorted(GRID))
def test_queue_and_resources_at_each_size_and_rtt(series: int, rtt_ms: int) -> None:
    sizing = _size(series, rtt_ms)
    per_send, capacity, shards, limit = GRID[series, rtt_ms]
    cpu, memory, wal = STEADY[series]
    assert sizing.queue.prometheus() == {
        "capacity": capacity,
        "min_shards": 1,
        "max_shards": shards,
        "max_samples_per_send": per_send,
        "batch_send_deadline": "5s",
        "min_backoff": duration(max(0.03, 2 * rtt_ms / 1000)),
        "max_backoff": "5s",
        "retry_on_http_429": True,
    }
    assert sizing.resources.kubernetes() == {
        "requests": {"cpu": f"{cpu}m", "memory": f"{memory}Mi"},
        "limits": {"memory": f"{limit}Mi"},
    }
    assert (sizing.wal_retention, sizing.wal_truncate_frequency, sizing.wal_volume_gib) == ("4h", "12h", wal)


# A sweep well beyond the grid: 1K-10M series, 5-300 s scrapes, 1-2000 ms RTT, 1-72 h buffers.
SWEEP = list(itertools.product((1_000, 10_000, 200_000, 3_000_000, 10_000_000), (5, 30, 300), (1, 5, 50, 200, 2000), (1, 4, 72)))


def _floor(sizing: model.EdgeSizing) -> int:
    """Shards that carry the steady load, plus the spare."""
    return math.ceil(sizing.samples_per_second / sizing.shard_samples_per_second) + model.SPARE_SHARDS


def test_queue_memory_stays_within_the_budget_unless_the_steady_load_needs_more() -> None:
    bound_cases = 0
    for series, interval, rtt_ms, buffer in SWEEP:
        sizing = size_edge(series, interval, buffer, rtt_seconds=rtt_ms / 1000)
        queue = sizing.queue
        budget = sizing.queue_memory_budget_mib * 2**20
        assert sizing.queue_memory_budget_mib == pytest.approx(model.QUEUE_MEMORY_SHARE * sizing.steady_memory_mib)
        assert queue.capacity == model.QUEUED_BATCHES_PER_SHARD * queue.max_samples_per_send
        if queue.max_shards > _floor(sizing):
            bound_cases += 1
            # The plain bound, capacity x max_shards x bytes per sample, and the stricter one the
            # model keeps: plus each shard's batch in flight.
            assert queue.capacity * queue.max_shards * B <= budget, (series, interval, rtt_ms, buffer)
            assert sizing.queue_memory_mib * 2**20 <= budget, (series, interval, rtt_ms, buffer)
        else:  # exactly the floor: no shard more than the steady load and the spare need
            assert queue.max_shards == _floor(sizing)
    assert bound_cases > len(SWEEP) / 4, "the sweep exercises the budget"


def test_every_edge_of_the_grid_is_within_the_budget() -> None:
    for series, rtt_ms in GRID:
        sizing = _size(series, rtt_ms)
        assert sizing.queue.capacity * sizing.queue.max_shards * B <= sizing.queue_memory_budget_mib * 2**20
        assert sizing.queue_memory_mib <= sizing.queue_memory_budget_mib


def test_memory_limit_covers_steady_state_and_the_bounded_backlog() -> None:
    for series, rtt_ms in GRID:
        sizing = _size(series, rtt_ms)
        resources = sizing.resources
        assert resources.memory_request_mib == math.ceil(sizing.steady_memory_mib)
        assert resources.memory_limit_mib >= sizing.steady_memory_mib * model.GC_PEAK_RATIO + sizing.queue_memory_mib
        # Far below what Prometheus' default queue holds under backlog (200 x (2500 + 500) samples).
        assert sizing.queue_memory_mib < 200 * 3_000 * B / 2**20 / 4


def test_shards_cover_what_the_hub_takes_while_catching_up_when_the_budget_allows() -> None:
    for series, interval, rtt_ms, buffer in SWEEP:
        sizing = size_edge(series, interval, buffer, rtt_seconds=rtt_ms / 1000)
        queue = sizing.queue
        assert sizing.required_samples_per_second == pytest.approx(sizing.samples_per_second * RECOVERY_HEADROOM)
        wanted = math.ceil(sizing.required_samples_per_second / sizing.shard_samples_per_second)
        affordable = model.affordable_shards(sizing.queue_memory_budget_mib, queue.capacity, queue.max_samples_per_send)
        assert queue.max_shards == max(_floor(sizing), min(wanted, affordable))
        # Draining at what the hub takes (3x the load), a buffer of T empties in T / 2; slower only
        # when the budget held the shards back, and always in finite time (the spare shard).
        if queue.max_shards >= wanted:
            assert sizing.catch_up_hours == pytest.approx(buffer / (RECOVERY_HEADROOM - 1))
        else:
            assert buffer / (RECOVERY_HEADROOM - 1) < sizing.catch_up_hours < math.inf


def test_the_bench_load_is_held_by_the_memory_budget_down_to_the_floor() -> None:
    # bench/remote_write.py's saturating load: 4 x 50,005 series at 1 s, edge defaults (4 h, 50 ms).
    sizing = size_edge(200_020, 1, 4)
    queue = sizing.queue
    # 4,500 per batch, 44.4K/s per shard. The hub would take 600K/s: 14 shards; the 17.2 MiB budget
    # (2% of 861 MiB) holds 17.2 MiB / (9,000 x 312 B) = 6, which is also the floor: the load itself
    # needs 200K / 44.4K -> 5, + 1 spare = 6 shards: 6 x 9,000 x 312 B = 16.1 MiB.
    assert (queue.capacity, queue.max_shards, queue.max_samples_per_send) == (4_500, 6, 4_500)
    assert sizing.queue_memory_mib == pytest.approx(16.1, abs=0.05)
    # 6 x 44.4K/s = 266.5K/s, 66.5K/s above the load: a 4 h buffer drains in 12 h, not 2 h.
    assert sizing.catch_up_hours == pytest.approx(12.0, abs=0.05)


def test_monotonic_in_series() -> None:
    for rtt_ms in RTTS_MS:
        plans = [_size(series, rtt_ms) for series in SERIES]
        for small, large in zip(plans, plans[1:]):
            assert small.queue.max_shards <= large.queue.max_shards
            assert small.queue.max_samples_per_send <= large.queue.max_samples_per_send
            assert small.queue_memory_budget_mib < large.queue_memory_budget_mib
            assert small.resources.memory_request_mib < large.resources.memory_request_mib
            assert small.resources.memory_limit_mib < large.resources.memory_limit_mib
            assert small.resources.cpu_request_millicores < large.resources.cpu_request_millicores
            assert small.wal_volume_gib <= large.wal_volume_gib


def test_monotonic_in_rtt() -> None:
    rtts = [1, 5, 20, 50, 100, 200, 500, 2000]
    for series in SERIES:
        plans = [_size(series, rtt_ms) for rtt_ms in rtts]
        for near, far in zip(plans, plans[1:]):
            assert near.queue.max_samples_per_send <= far.queue.max_samples_per_send
            assert near.queue.max_shards <= far.queue.max_shards
            assert near.resources.memory_request_mib == far.resources.memory_request_mib, "RTT costs no steady memory"


def test_the_batch_is_raised_until_it_covers_the_rtt() -> None:
    # Uncapped, the receiver's time on a batch is at least the RTT, so a shard runs at half its
    # loopback ceiling (1 / 2t = 43.9K/s) or better.
    for rtt_ms in (5, 20, 50, 100):
        per_send = batch_size(rtt_ms / 1000)
        assert per_send * model.RECEIVER_SECONDS_PER_SAMPLE >= rtt_ms / 1000
        assert (per_send - model.BATCH_SIZE_STEP) * model.RECEIVER_SECONDS_PER_SAMPLE < rtt_ms / 1000 or per_send == 500
        assert shard_throughput(per_send, rtt_ms / 1000) >= 1 / (2 * model.RECEIVER_SECONDS_PER_SAMPLE)
    assert [batch_size(rtt / 1000) for rtt in (1, 5, 50, 200, 2000)] == [500, 500, 4_500, 10_000, 10_000]
    # A small budget caps it: 2 shards x 2 batches within 4.92 MiB (50K series) -> 4,000.
    assert batch_size(0.05, 4.92) == 4_000


def test_longer_buffer_needs_more_disk_and_time_but_not_shards_or_memory() -> None:
    short, long = size_edge(1_000_000, 30, 2), size_edge(1_000_000, 30, 12)
    assert long.wal_volume_gib > short.wal_volume_gib
    assert long.catch_up_hours == pytest.approx(6 * short.catch_up_hours)
    # The hub takes no more from an edge with a longer buffer, so neither do the queues.
    assert (long.queue, long.resources) == (short.queue, short.resources)
    assert (short.wal_retention, size_edge(10_000, 30, 1.5).wal_retention) == ("2h", "90m")


def test_shard_model_reproduces_the_measurements() -> None:
    # Loopback: a 500-sample batch per 5.7 ms round trip is ~88K/s, capped at the measured ~82K/s.
    assert shard_throughput(500, 1e-9) == model.SHARD_CEILING_SAMPLES_PER_SECOND
    # The baseline's WAN extrapolation: 500 / (50 ms + 5.7 ms) is about 9K samples/s.
    assert shard_throughput(500, 0.05) == pytest.approx(8_977, rel=0.01)
    # (879 - 632) MiB over 830K pending samples.
    assert B == pytest.approx(312, abs=0.5)
    # 15 s, 50,005 series: ~0.055 agent cores measured.
    assert size_edge(50_005, 15, 4).resources.cpu_request_millicores == 55
    # 18 MB of WAL for 2M samples.
    assert model.WAL_BYTES_PER_SAMPLE == pytest.approx(9.4, abs=0.05)


def test_recovery_is_fast_and_rate_limits_are_retried() -> None:
    for series, rtt_ms in GRID:
        queue = _size(series, rtt_ms).queue
        assert queue.max_backoff == "5s"
        assert queue.retry_on_http_429 is True


def test_overrides_replace_the_model_and_the_shards_follow_the_batch() -> None:
    sizing = size_edge(1_000_000, 30, 4, overrides=QueueOverrides(maxSamplesPerSend=500, maxBackoff="30s"))
    assert sizing.queue.max_samples_per_send == 500
    assert sizing.queue.max_shards == 12  # 100K samples/s over ~9K per 500-sample shard at 50 ms
    assert sizing.queue.capacity == 500
    assert sizing.queue.max_backoff == "30s"
    pinned = size_edge(50_000, 30, 4, overrides=QueueOverrides(capacity=50_000, maxShards=8, retryOnRateLimit=False))
    assert (pinned.queue.capacity, pinned.queue.max_shards, pinned.queue.retry_on_http_429) == (50_000, 8, False)
    # An override may exceed the budget; the memory limit follows it.
    assert pinned.queue_memory_mib > pinned.queue_memory_budget_mib
    assert pinned.resources.memory_limit_mib > size_edge(50_000, 30, 4).resources.memory_limit_mib


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (QueueOverrides(capacity=1_000), "obsfleet:queue.capacity: 1000 is below maxSamplesPerSend (4000)"),
        (QueueOverrides(minShards=3), "obsfleet:queue.minShards: 3 is above maxShards (2)"),
    ],
)
def test_inconsistent_overrides_name_the_key(overrides: QueueOverrides, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        size_edge(50_000, 30, 4, overrides=overrides)


def test_hub_rtt_comes_from_the_stack_config() -> None:
    assert edge_settings().hub_rtt_ms == 50 and model.DEFAULT_RTT_SECONDS == 0.05
    settings = edge_settings(seriesEstimate=1_000_000, hubRttMs=200)
    assert for_settings(settings) == size_edge(1_000_000, 30, 4, rtt_seconds=0.2)
    assert for_settings(settings).queue.max_samples_per_send == 10_000


@pytest.mark.parametrize("rtt", [0, 2001])
def test_hub_rtt_out_of_range_names_the_key(rtt: int) -> None:
    with pytest.raises(ConfigError, match=r"^obsfleet:hubRttMs: "):
        edge_settings(hubRttMs=rtt)


@pytest.mark.parametrize(("seconds", "text"), [(14_400, "4h"), (5_400, "90m"), (30, "30s"), (0.1, "100ms"), (0.03, "30ms")])
def test_durations_use_the_largest_whole_unit(seconds: float, text: str) -> None:
    assert duration(seconds) == text
