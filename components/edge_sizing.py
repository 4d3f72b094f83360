"""Edge sizing: the agent's remote-write queue, its resources and its WAL volume.

Every constant below is either MEASURED (../shared/reference/measurements/prometheus-2.42-baseline.md:
Prometheus 2.42 on 2 vCPU, loopback, 50,005 series per target) or an ASSUMPTION named as such.
The seed research's figures are not used.

The model, in the order it is computed:

1. Offered load: one sample per series per scrape, `r = series / interval` samples/s.
2. Batch size (`max_samples_per_send`): over a WAN a shard has one request in flight, so it moves
   `n / (RTT + n * t_recv)` samples/s (t_recv: receiver time per sample). Small batches spend the
   shard's time waiting on the RTT; the batch is raised until the receiver's work is at least half
   the RTT, which keeps a shard within 3x of its loopback ceiling.
3. Catch-up: after a hub outage of `bufferHours` the WAL holds `r * buffer` samples. The queue must
   drain that within CATCH_UP_HOURS while new samples keep arriving, so it needs
   `r * (1 + buffer / CATCH_UP_HOURS)` samples/s; `max_shards` is that over one shard's throughput.
   More shards than that buy nothing (measured: 200 shards moved no more than 1 against a
   CPU-bound receiver, with 842 ms batches and +400 MiB RSS).
4. `capacity`: a few batches per shard, so the next batch is ready when a request returns. A full
   queue blocks the WAL reader (the WAL still holds the data), so capacity is not a loss bound;
   it is a memory bound: `capacity * max_shards` pending samples.
5. Memory: steady-state RSS per series plus the pending samples, with the measured GC swing.
6. WAL volume: `bufferHours` plus one truncation period of samples at the measured bytes/sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Optional

from components.settings import ConfigError, EdgeSettings, QueueOverrides

# --- MEASURED (baseline, sections 2-4) ---------------------------------------------------------
BASE_RSS_MIB = 41.0
"""Every Prometheus process had 41 MiB RSS before its first scrape."""
RSS_PER_SERIES_KIB = 4.2
"""Agent RSS above the base per active series: 3.7-4.2 KiB; the upper end."""
GC_PEAK_RATIO = 246.3 / 222.5
"""Agent RSS max / median of the last third (GC swing), 50K series at 15 s."""
RSS_PER_PENDING_SAMPLE_BYTES = (879 - 632) * 2**20 / 830_000
"""Backlog memory: the capacity-100000 x 10-shard agent held ~830K samples pending at 879 MiB,
the 1-shard agent (almost nothing pending) 632 MiB, same load: ~312 bytes per pending sample."""
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
WAL_TRUNCATION_HOURS = 2.0
"""The agent truncates its WAL every 2 h, so up to 2 h of sent samples stay on disk."""

# --- ASSUMPTIONS (not measured; revisit with bench/ results) -------------------------------------
DEFAULT_RTT_SECONDS = 0.05
"""Edge-to-hub round trip inside one jurisdiction."""
CATCH_UP_HOURS = 1.0
"""A full buffer should drain within an hour of the hub coming back."""
MIN_MAX_SHARDS = 2
"""With one shard a single request hanging until remote_timeout stalls everything; a second keeps data flowing."""
BATCHES_PER_SHARD = 4
"""Queue capacity in batches: one in flight, the next ones ready."""
BATCH_SIZE_STEP = 500
MAX_SAMPLES_PER_SEND_BOUNDS = (500, 10_000)
"""Prometheus' default batch (500) up to ~175 KB compressed requests (17.5 B/sample measured on the wire)."""
MEMORY_LIMIT_MARGIN = 1.5
"""WAL replay after a restart and Go heap growth are unmeasured: the limit gets 50% above the model."""
WAL_VOLUME_MARGIN = 1.25
"""Segment granularity and the checkpoint written during truncation."""
BATCH_SEND_DEADLINE_SECONDS = 5
"""Longest a sample waits for its batch to fill (small edges fill a batch slower than this)."""
MIN_BACKOFF_FLOOR_SECONDS = 0.03
MAX_BACKOFF_SECONDS = 5
"""Measured: after a 60 s outage the agent idled up to max_backoff before catching up; keep it short."""


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
    """What one shard moves at the assumed RTT."""
    required_samples_per_second: float
    """Steady load plus draining a full buffer within CATCH_UP_HOURS."""
    queue: QueueConfig
    resources: Resources
    wal_retention: str
    """`--storage.agent.retention.max-time`: unsent samples older than this are dropped."""
    wal_volume_gib: int

    @property
    def pending_samples_bound(self) -> int:
        return self.queue.capacity * self.queue.max_shards


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


def batch_size(rtt_seconds: float) -> int:
    """Smallest batch whose receiver time is at least half the RTT, in steps of 500, bounded."""
    wanted = rtt_seconds / (2 * RECEIVER_SECONDS_PER_SAMPLE)
    low, high = MAX_SAMPLES_PER_SEND_BOUNDS
    return min(high, max(low, math.ceil(wanted / BATCH_SIZE_STEP) * BATCH_SIZE_STEP))


def size_edge(
    series: int,
    scrape_interval_seconds: float,
    buffer_hours: float,
    *,
    rtt_seconds: float = DEFAULT_RTT_SECONDS,
    overrides: Optional[QueueOverrides] = None,
) -> EdgeSizing:
    """Queue config, resources and WAL volume for an agent scraping `series` every interval.

    `overrides` (stack config `obsfleet:queue`) replace the model's fields; the shard count
    follows an overridden batch size, and memory follows the final queue.
    """
    if series <= 0 or scrape_interval_seconds <= 0 or buffer_hours <= 0 or rtt_seconds <= 0:
        raise ValueError("series, scrape interval, buffer hours and RTT must be positive")
    overrides = overrides or QueueOverrides()
    rate = series / scrape_interval_seconds

    per_send = overrides.max_samples_per_send or batch_size(rtt_seconds)
    per_shard = shard_throughput(per_send, rtt_seconds)
    required = rate * (1 + buffer_hours / CATCH_UP_HOURS)
    queue = QueueConfig(
        capacity=BATCHES_PER_SHARD * per_send,
        min_shards=1,
        max_shards=max(MIN_MAX_SHARDS, math.ceil(required / per_shard)),
        max_samples_per_send=per_send,
        batch_send_deadline=duration(BATCH_SEND_DEADLINE_SECONDS),
        # A retry sooner than a round trip cannot succeed sooner; never below Prometheus' 30 ms.
        min_backoff=duration(max(MIN_BACKOFF_FLOOR_SECONDS, 2 * rtt_seconds)),
        max_backoff=duration(MAX_BACKOFF_SECONDS),
        # The Mimir tier answers 429 when an edge exceeds its ingestion limits; the WAL holds the
        # samples, so retrying loses nothing while dropping would.
        retry_on_http_429=True,
    )
    queue = _apply_overrides(queue, overrides)

    steady_mib = BASE_RSS_MIB + series * RSS_PER_SERIES_KIB / 1024
    backlog_mib = queue.capacity * queue.max_shards * RSS_PER_PENDING_SAMPLE_BYTES / 2**20
    resources = Resources(
        cpu_request_millicores=math.ceil(1000 * (AGENT_IDLE_CPU_CORES + rate * AGENT_CPU_SECONDS_PER_SAMPLE)),
        memory_request_mib=math.ceil(steady_mib),
        memory_limit_mib=math.ceil(MEMORY_LIMIT_MARGIN * (steady_mib * GC_PEAK_RATIO + backlog_mib)),
    )
    wal_bytes = rate * (buffer_hours + WAL_TRUNCATION_HOURS) * 3600 * WAL_BYTES_PER_SAMPLE * WAL_VOLUME_MARGIN
    return EdgeSizing(
        samples_per_second=rate,
        shard_samples_per_second=per_shard,
        required_samples_per_second=required,
        queue=queue,
        resources=resources,
        wal_retention=duration(buffer_hours * 3600),
        wal_volume_gib=max(1, math.ceil(wal_bytes / 2**30)),
    )


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


def for_settings(settings: EdgeSettings, rtt_seconds: float = DEFAULT_RTT_SECONDS) -> EdgeSizing:
    return size_edge(
        settings.series_estimate,
        settings.scrape_interval_seconds,
        settings.buffer_hours,
        rtt_seconds=rtt_seconds,
        overrides=settings.queue,
    )
