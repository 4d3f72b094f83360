"""Edge sizing: the Prometheus agent's remote-write queue, its resources and its WAL volume, from
the edge's active series, scrape interval, round trip to the hub and `bufferHours`.

The model and why each step is as it is: docs/sizing.md "Edge: the Prometheus agent". Every
constant below is MEASURED (docs/design.md "Sizing measurements", bench/RESULTS.md), a Prometheus
fact, or a POLICY/ASSUMPTION named as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Optional

from components.edge_wal import SEGMENT_BYTES
from components.hub_sizing import RECOVERY_HEADROOM
from components.settings import ConfigError, EdgeSettings, QueueOverrides

# --- MEASURED (docs/design.md "Sizing measurements" [2]-[4]; bench/RESULTS.md "edge sizing under backlog")
BASE_RSS_MIB = 41.0
"""Every Prometheus process had 41 MiB RSS before its first scrape."""
RSS_PER_SERIES_KIB = 4.2
"""Agent RSS above the base per active series: 3.7-4.2 KiB; the upper end."""
GC_PEAK_RATIO = 246.3 / 222.5
"""Agent RSS max / median of the last third (GC swing), 50K series at 15 s."""
RSS_PER_PENDING_SAMPLE_BYTES = (879 - 632) * 2**20 / 830_000
"""Backlog memory, 200K lagging series: the capacity-100000 x 10-shard agent held ~830K samples
pending at 879 MiB, the 1-shard agent (almost nothing pending) 632 MiB: (879 - 632) MiB / 830K =
312 bytes per held sample (queue entry, its share of request buffers, and the GC's headroom on both)."""
AGENT_CPU_SECONDS_PER_SAMPLE = 5e-6
"""Agent CPU per sample (scrape + WAL + remote write): 0.24-0.26 cores at 50K samples/s."""
AGENT_IDLE_CPU_CORES = 0.055 - 50_005 / 15 * AGENT_CPU_SECONDS_PER_SAMPLE
"""What the per-sample cost does not explain at 15 s (0.055 cores at 3.3K samples/s): GC, SD, WAL."""
RECEIVER_SECONDS_PER_SAMPLE = 5.7e-3 / 500
"""Receiver time per sample: a 500-sample batch took 5.7 ms round trip on loopback."""
SHARD_CEILING_SAMPLES_PER_SECOND = 82_000.0
"""One shard on loopback (CPU-bound box): ~82K samples/s."""
WAL_BYTES_PER_SAMPLE = 18 * 2**20 / (50_005 * 600 / 15)
"""~18 MB of agent WAL after 10 min of 50,005 series at 15 s (read as MiB, the larger): ~9.4 B/sample."""

# --- Prometheus facts ----------------------------------------------------------------------------
WAL_PEAK_PERIODS = 1.5
WAL_PEAK_SEGMENTS = 3
"""The agent's WAL peaks at 1.5 truncation periods of samples plus three segments (it deletes
nothing while it holds fewer than four), a segment being at most one period: the replay model's
peak, checked in tests/components/test_edge_wal.py."""

# --- POLICY and ASSUMPTIONS (not measured; bench/ checks their effect) ---------------------------
DEFAULT_RTT_SECONDS = EdgeSettings.model_fields["hub_rtt_ms"].default / 1000
"""`obsfleet:hubRttMs` unset: an edge-to-hub round trip inside one jurisdiction."""
QUEUE_MEMORY_SHARE = 0.02
"""Queue memory budget: a backlog may grow the agent by at most 2% of its steady-state RSS. Queues
fill only when the hub or the network cannot keep up, and then more queued samples buy nothing
(bench/RESULTS.md); 2% is below the RSS noise between identical agents."""
SPARE_SHARDS = 1
"""Shards above the steady load, whatever the budget: with one shard a request hanging until
remote_timeout stalls everything, and a spare one is what drains a backlog at all."""
QUEUED_BATCHES_PER_SHARD = 1
"""`capacity` in batches: the next batch is ready when a request returns. Measured (bench/RESULTS.md
"The Prometheus agent under a saturating backlog"): at 200K lagging series one queued batch per shard (4500/6/4500, GOGC 45) moved 0.95-1.19x
the best other config's samples/s (median 1.05x) at 0.64-0.68x the default's RSS; two (9000/6/4500,
GOGC 50) 0.95-1.85x (median of 9 rounds 1.04x) at 0.64-0.76x (median 0.70x)."""
BATCH_RECEIVER_TIME_PER_RTT = 1.0
"""The batch is raised until the receiver's time on it is at least this many RTTs."""
BATCH_SIZE_STEP = 500
MAX_SAMPLES_PER_SEND_BOUNDS = (500, 10_000)
"""Prometheus' default batch (500) up to ~175 KB compressed requests (17.5 B/sample measured on the
wire), far below Mimir's default per-tenant burst (200,000 samples) that a request may not exceed."""
MEMORY_LIMIT_MARGIN = 1.5
"""WAL replay after a restart and Go heap growth are unmeasured: the limit gets 50% above the model."""
WAL_VOLUME_MARGIN = 1.25
"""The checkpoint written during truncation, and the bytes/sample of another series mix."""
WAL_TRUNCATION_FACTOR = 2.0
"""Truncation frequency over (`bufferHours` + catch-up). The replay model (components/edge_wal.py)
loses nothing for any outage offset at 2 (1.5 suffices in it; 2 keeps a margin for the model's
simplifications); Prometheus' default 2 h loses unsent segments of a busy edge (>= ~200 MB of WAL
per hour) after about 1.5 h of outage."""
BATCH_SEND_DEADLINE_SECONDS = 5
"""Longest a sample waits for its batch to fill (small edges fill a batch slower than this)."""
MIN_BACKOFF_FLOOR_SECONDS = 0.03
MAX_BACKOFF_SECONDS = 5
"""Measured: after a 60 s outage the agent idled up to max_backoff before catching up; keep it short."""
AGENT_GOGC = 45
"""The agent's Go GC target percentage (Go's default 100; Prometheus 3 defaults to 75). Measured on
2.42 (bench/RESULTS.md "edge sizing under backlog"): with this queue under backlog the agent's RSS fell from 636-692
MiB at 100 (572-583 at 75) to 492-519 MiB at 50, 0.60-0.67x the default config's; at steady state to
3.7-4.4 KiB/series; CPU: none measurable at steady state, perhaps ~1 us/sample under backlog. At 25
memory fell further for ~25% more agent CPU; at 40 (on a CPU-starved box) the extra
collections cost delivery (median 0.95x the best other config); 45 with one queued batch per shard
kept delivery (1.05x) at 0.64-0.68x the default's RSS. The RSS constants above were measured at
100, so the model's memory request errs high (~15%), not low."""


@dataclass(frozen=True)
class QueueConfig:
    """Remote-write `queue_config`, in Prometheus' own (snake_case) field names."""

    capacity: int
    min_shards: int
    max_shards: int
    max_samples_per_send: int
    batch_send_deadline: str
    min_backoff: str
    max_backoff: str
    retry_on_http_429: bool

    @property
    def held_samples_bound(self) -> int:
        """Samples in memory when every shard runs with a full queue and a batch in flight."""
        return self.max_shards * (self.capacity + self.max_samples_per_send)

    @property
    def memory_mib(self) -> float:
        """What the queues add to the agent under backlog (every shard full, a batch in flight each)."""
        return self.held_samples_bound * RSS_PER_PENDING_SAMPLE_BYTES / 2**20

    def prometheus(self) -> dict[str, Any]:
        """As `remote_write[].queue_config` in prometheus.yml."""
        return {
            "capacity": self.capacity,
            "min_shards": self.min_shards,
            "max_shards": self.max_shards,
            "max_samples_per_send": self.max_samples_per_send,
            "batch_send_deadline": self.batch_send_deadline,
            "min_backoff": self.min_backoff,
            "max_backoff": self.max_backoff,
            "retry_on_http_429": self.retry_on_http_429,
        }

    def operator(self) -> dict[str, Any]:
        """As prometheus-operator's RemoteWriteSpec `queueConfig` (QueueConfig type)."""
        return {
            "capacity": self.capacity,
            "minShards": self.min_shards,
            "maxShards": self.max_shards,
            "maxSamplesPerSend": self.max_samples_per_send,
            "batchSendDeadline": self.batch_send_deadline,
            "minBackoff": self.min_backoff,
            "maxBackoff": self.max_backoff,
            "retryOnRateLimit": self.retry_on_http_429,
        }


@dataclass(frozen=True)
class Resources:
    cpu_request_millicores: int
    memory_request_mib: int
    memory_limit_mib: int

    def kubernetes(self) -> dict[str, Any]:
        # No CPU limit: throttling would only slow the catch-up after an outage; the memory limit
        # is what protects the node.
        return {
            "requests": {"cpu": f"{self.cpu_request_millicores}m", "memory": f"{self.memory_request_mib}Mi"},
            "limits": {"memory": f"{self.memory_limit_mib}Mi"},
        }


@dataclass(frozen=True)
class EdgeSizing:
    samples_per_second: float
    shard_samples_per_second: float
    """What one shard moves at the expected RTT."""
    required_samples_per_second: float
    """What the hub ingests from this edge at most while it catches up (RECOVERY_HEADROOM x the load)."""
    buffer_hours: float
    steady_memory_mib: float
    """Agent RSS with no backlog: base plus per-series state."""
    queue_memory_budget_mib: float
    queue: QueueConfig
    go_gc: int
    """GOGC for the agent process (`runtime.goGC` of the PrometheusAgent)."""
    resources: Resources
    wal_retention: str
    """`--storage.agent.retention.max-time`: what a checkpoint keeps of samples older than this."""
    wal_truncate_frequency: str
    """`--storage.agent.wal-truncate-frequency` (see WAL_TRUNCATION_FACTOR)."""
    wal_volume_gib: int

    @property
    def queue_memory_mib(self) -> float:
        """What the queues add to the agent under backlog (every shard full, a batch in flight each)."""
        return self.queue.memory_mib

    @property
    def catch_up_hours(self) -> float:
        return catch_up_hours(
            self.buffer_hours, self.samples_per_second, self.queue, self.shard_samples_per_second,
            self.required_samples_per_second,
        )


def catch_up_hours(buffer_hours: float, rate: float, queue: QueueConfig, per_shard: float, required: float) -> float:
    """How long a full buffer takes to drain while new samples keep arriving: at what `max_shards`
    move, or what the hub takes from one edge, whichever is less."""
    drain = min(queue.max_shards * per_shard, required)
    return buffer_hours * rate / (drain - rate)


def duration(seconds: float) -> str:
    """A Prometheus/Go duration in the largest whole unit (`4h`, `90m`, `100ms`)."""
    millis = round(seconds * 1000)
    if millis <= 0:
        raise ValueError(f"duration must be positive, got {seconds}s")
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def shard_throughput(max_samples_per_send: int, rtt_seconds: float) -> float:
    """Samples/s one shard moves: one request in flight, each costing RTT plus receiver time."""
    latency_bound = max_samples_per_send / (rtt_seconds + max_samples_per_send * RECEIVER_SECONDS_PER_SAMPLE)
    return min(latency_bound, SHARD_CEILING_SAMPLES_PER_SECOND)


def _budget_samples(budget_mib: float) -> float:
    return budget_mib * 2**20 / RSS_PER_PENDING_SAMPLE_BYTES


def batch_size(rtt_seconds: float, budget_mib: float = math.inf) -> int:
    """Smallest batch whose receiver time covers the RTT (BATCH_RECEIVER_TIME_PER_RTT), in steps of
    500, bounded, and small enough that the smallest shard count (one carrying the load, one spare)
    holding a full queue and a batch in flight each fits `budget_mib`."""
    wanted = BATCH_RECEIVER_TIME_PER_RTT * rtt_seconds / RECEIVER_SECONDS_PER_SAMPLE
    held_per_batch = (1 + SPARE_SHARDS) * (QUEUED_BATCHES_PER_SHARD + 1)
    affordable = _budget_samples(budget_mib) / held_per_batch // BATCH_SIZE_STEP * BATCH_SIZE_STEP
    low, high = MAX_SAMPLES_PER_SEND_BOUNDS
    return int(max(low, min(high, affordable, math.ceil(wanted / BATCH_SIZE_STEP) * BATCH_SIZE_STEP)))


def affordable_shards(budget_mib: float, capacity: int, max_samples_per_send: int) -> int:
    """Shards whose full queues and in-flight batches fit the memory budget."""
    return math.floor(_budget_samples(budget_mib) / (capacity + max_samples_per_send))


def size_edge(
    series: int,
    scrape_interval_seconds: float,
    buffer_hours: float,
    *,
    rtt_seconds: float = DEFAULT_RTT_SECONDS,
    overrides: Optional[QueueOverrides] = None,
) -> EdgeSizing:
    """Queue config, resources and WAL volume for an agent scraping `series` every interval.

    `overrides` (stack config `obsfleet:queue`) replace the model's fields; capacity and shard count
    follow an overridden batch size, and memory follows the final queue (an override may exceed the
    budget: it is the operator's call, and the memory limit grows with it).
    """
    if series <= 0 or scrape_interval_seconds <= 0 or buffer_hours <= 0 or rtt_seconds <= 0:
        raise ValueError("series, scrape interval, buffer hours and RTT must be positive")
    overrides = overrides or QueueOverrides()
    rate = series / scrape_interval_seconds
    steady_mib = BASE_RSS_MIB + series * RSS_PER_SERIES_KIB / 1024
    budget_mib = QUEUE_MEMORY_SHARE * steady_mib

    per_send = overrides.max_samples_per_send or batch_size(rtt_seconds, budget_mib)
    capacity = overrides.capacity or QUEUED_BATCHES_PER_SHARD * per_send
    per_shard = shard_throughput(per_send, rtt_seconds)
    required = rate * RECOVERY_HEADROOM
    floor = math.ceil(rate / per_shard) + SPARE_SHARDS
    wanted = math.ceil(required / per_shard)
    queue = QueueConfig(
        capacity=capacity,
        min_shards=1,
        max_shards=max(floor, min(wanted, affordable_shards(budget_mib, capacity, per_send))),
        max_samples_per_send=per_send,
        batch_send_deadline=duration(BATCH_SEND_DEADLINE_SECONDS),
        # A retry sooner than a round trip cannot succeed sooner; never below Prometheus' 30 ms.
        min_backoff=duration(max(MIN_BACKOFF_FLOOR_SECONDS, 2 * rtt_seconds)),
        max_backoff=duration(MAX_BACKOFF_SECONDS),
        # The Mimir tier answers 429 when an edge exceeds its ingestion limits: retrying loses
        # nothing (the WAL holds the samples) while dropping would. Prometheus' receiver never
        # answers 429, so the flag changes nothing there; the edge cannot see its hub's tier when
        # it is sized (the hub decides it from its own edge count), so it is always on.
        retry_on_http_429=True,
    )
    queue = _apply_overrides(queue, overrides)

    backlog_mib = queue.memory_mib
    resources = Resources(
        cpu_request_millicores=math.ceil(1000 * (AGENT_IDLE_CPU_CORES + rate * AGENT_CPU_SECONDS_PER_SAMPLE)),
        memory_request_mib=math.ceil(steady_mib),
        memory_limit_mib=math.ceil(MEMORY_LIMIT_MARGIN * (steady_mib * GC_PEAK_RATIO + backlog_mib)),
    )
    truncate_seconds = 60 * math.ceil(
        WAL_TRUNCATION_FACTOR * (buffer_hours + catch_up_hours(buffer_hours, rate, queue, per_shard, required)) * 60
    )
    wal_bytes = wal_peak_bytes(rate, truncate_seconds) * WAL_VOLUME_MARGIN
    return EdgeSizing(
        samples_per_second=rate,
        shard_samples_per_second=per_shard,
        required_samples_per_second=required,
        buffer_hours=buffer_hours,
        steady_memory_mib=steady_mib,
        queue_memory_budget_mib=budget_mib,
        queue=queue,
        go_gc=AGENT_GOGC,
        resources=resources,
        wal_retention=duration(buffer_hours * 3600),
        wal_truncate_frequency=duration(truncate_seconds),
        wal_volume_gib=max(1, math.ceil(wal_bytes / 2**30)),
    )


def wal_peak_bytes(samples_per_second: float, truncate_seconds: float) -> float:
    """The agent's largest WAL at this rate and truncation frequency (WAL_PEAK_PERIODS)."""
    period = truncate_seconds * samples_per_second * WAL_BYTES_PER_SAMPLE
    return WAL_PEAK_PERIODS * period + WAL_PEAK_SEGMENTS * min(SEGMENT_BYTES, period)


def _apply_overrides(queue: QueueConfig, overrides: QueueOverrides) -> QueueConfig:
    given = overrides.model_dump(exclude_none=True)
    if "retry_on_rate_limit" in given:
        given["retry_on_http_429"] = given.pop("retry_on_rate_limit")
    result = replace(queue, **given)
    aliases = {name: field.alias or name for name, field in QueueOverrides.model_fields.items()}
    if result.capacity < result.max_samples_per_send:
        raise ConfigError(
            f"obsfleet:queue.{aliases['capacity']}: {result.capacity} is below {aliases['max_samples_per_send']} "
            f"({result.max_samples_per_send}): a shard could never fill a batch"
        )
    if result.min_shards > result.max_shards:
        raise ConfigError(
            f"obsfleet:queue.{aliases['min_shards']}: {result.min_shards} is above "
            f"{aliases['max_shards']} ({result.max_shards})"
        )
    return result


def for_settings(settings: EdgeSettings) -> EdgeSizing:
    return size_edge(
        settings.series_estimate,
        settings.scrape_interval_seconds,
        settings.buffer_hours,
        rtt_seconds=settings.hub_rtt_ms / 1000,
        overrides=settings.queue,
    )
