"""The edge sizing model: values at 10K-1M series, its monotonic properties, and the measured anchors."""

from __future__ import annotations

import pytest

from components import edge_sizing as model
from components.edge_sizing import duration, shard_throughput, size_edge
from components.settings import ConfigError, QueueOverrides

# series -> (max_shards, cpu m, memory request Mi, memory limit Mi, WAL GiB) at 30 s, 4 h, 50 ms RTT.
AT_30S = {
    10_000: (2, 40, 83, 146, 1),
    50_000: (2, 47, 247, 418, 1),
    100_000: (2, 55, 452, 759, 1),
    1_000_000: (6, 205, 4143, 6906, 8),
}
SERIES = sorted(AT_30S)


@pytest.mark.parametrize("series", SERIES)
def test_queue_and_resources_at_30s(series: int) -> None:
    sizing = size_edge(series, 30, 4)
    shards, cpu, memory, limit, wal = AT_30S[series]
    assert sizing.queue.prometheus() == {
        "capacity": 10_000,
        "min_shards": 1,
        "max_shards": shards,
        "max_samples_per_send": 2_500,
        "batch_send_deadline": "5s",
        "min_backoff": "100ms",
        "max_backoff": "5s",
        "retry_on_http_429": True,
    }
    assert sizing.resources.kubernetes() == {
        "requests": {"cpu": f"{cpu}m", "memory": f"{memory}Mi"},
        "limits": {"memory": f"{limit}Mi"},
    }
    assert (sizing.wal_retention, sizing.wal_volume_gib) == ("4h", wal)


def test_a_million_series_at_15s_needs_more_shards_and_disk() -> None:
    sizing = size_edge(1_000_000, 15, 4)
    assert sizing.samples_per_second == pytest.approx(66_667, abs=1)
    assert (sizing.queue.max_shards, sizing.wal_volume_gib) == (11, 16)


def test_monotonic_in_series() -> None:
    plans = [size_edge(series, 30, 4) for series in SERIES]
    for small, large in zip(plans, plans[1:]):
        assert small.queue.max_shards <= large.queue.max_shards
        assert small.resources.memory_request_mib < large.resources.memory_request_mib
        assert small.resources.memory_limit_mib < large.resources.memory_limit_mib
        assert small.resources.cpu_request_millicores < large.resources.cpu_request_millicores
        assert small.wal_volume_gib <= large.wal_volume_gib


def test_longer_buffer_needs_more_disk_and_catch_up_but_not_memory() -> None:
    short, long = size_edge(1_000_000, 30, 2), size_edge(1_000_000, 30, 12)
    assert long.wal_volume_gib > short.wal_volume_gib
    assert long.required_samples_per_second > short.required_samples_per_second
    assert long.queue.max_shards > short.queue.max_shards
    assert long.resources.memory_request_mib == short.resources.memory_request_mib
    assert (short.wal_retention, size_edge(10_000, 30, 1.5).wal_retention) == ("2h", "90m")


def test_shards_carry_the_steady_load_plus_draining_a_full_buffer_within_the_hour() -> None:
    for series in SERIES:
        sizing = size_edge(series, 30, 4)
        assert sizing.required_samples_per_second == pytest.approx(5 * sizing.samples_per_second)
        capacity = sizing.queue.max_shards * sizing.shard_samples_per_second
        assert capacity >= sizing.required_samples_per_second
        # ...and no more shards than that (two at least, for resilience).
        assert sizing.queue.max_shards == max(2, -(-sizing.required_samples_per_second // sizing.shard_samples_per_second))


def test_memory_limit_covers_the_bounded_backlog() -> None:
    for series in SERIES:
        sizing = size_edge(series, 30, 4)
        backlog_mib = sizing.pending_samples_bound * model.RSS_PER_PENDING_SAMPLE_BYTES / 2**20
        assert sizing.resources.memory_limit_mib >= sizing.resources.memory_request_mib * model.GC_PEAK_RATIO + backlog_mib
        # Bounded queues: far below what the seed's capacity 100000 x 10 shards would hold (~300 MiB).
        assert backlog_mib < 100_000 * 10 * model.RSS_PER_PENDING_SAMPLE_BYTES / 2**20 / 5


def test_shard_model_reproduces_the_measurements() -> None:
    # Loopback: a 500-sample batch per 5.7 ms round trip is ~88K/s, capped at the measured ~82K/s.
    assert shard_throughput(500, 1e-9) == model.SHARD_CEILING_SAMPLES_PER_SECOND
    # The baseline's WAN extrapolation: 500 / (50 ms + 5.7 ms) is about 9K samples/s.
    assert shard_throughput(500, 0.05) == pytest.approx(8_977, rel=0.01)
    # 15 s, 50,005 series: ~0.055 agent cores measured.
    assert size_edge(50_005, 15, 4).resources.cpu_request_millicores == 55
    # 18 MB of WAL for 2M samples.
    assert model.WAL_BYTES_PER_SAMPLE == pytest.approx(9.4, abs=0.05)


def test_batch_grows_with_rtt_and_stays_bounded() -> None:
    batches = [size_edge(50_000, 30, 4, rtt_seconds=rtt).queue.max_samples_per_send for rtt in (0.005, 0.05, 0.2, 1.0)]
    assert batches == [500, 2_500, 9_000, 10_000]
    assert size_edge(50_000, 30, 4, rtt_seconds=0.005).queue.min_backoff == "30ms"


def test_overrides_replace_the_model_and_the_shards_follow_the_batch() -> None:
    sizing = size_edge(1_000_000, 30, 4, overrides=QueueOverrides(maxSamplesPerSend=500, maxBackoff="30s"))
    assert sizing.queue.max_samples_per_send == 500
    assert sizing.queue.max_shards == 19  # 167K samples/s over ~9K per 500-sample shard
    assert sizing.queue.capacity == 2_000
    assert sizing.queue.max_backoff == "30s"
    pinned = size_edge(50_000, 30, 4, overrides=QueueOverrides(capacity=50_000, maxShards=8, retryOnRateLimit=False))
    assert (pinned.queue.capacity, pinned.queue.max_shards, pinned.queue.retry_on_http_429) == (50_000, 8, False)
    assert pinned.resources.memory_limit_mib > size_edge(50_000, 30, 4).resources.memory_limit_mib


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (QueueOverrides(capacity=1_000), "obsfleet:queue.capacity: 1000 is below maxSamplesPerSend (2500)"),
        (QueueOverrides(minShards=3), "obsfleet:queue.minShards: 3 is above maxShards (2)"),
    ],
)
def test_inconsistent_overrides_name_the_key(overrides: QueueOverrides, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        size_edge(50_000, 30, 4, overrides=overrides)


@pytest.mark.parametrize(("seconds", "text"), [(14_400, "4h"), (5_400, "90m"), (30, "30s"), (0.1, "100ms"), (0.03, "30ms")])
def test_durations_use_the_largest_whole_unit(seconds: float, text: str) -> None:
    assert duration(seconds) == text
