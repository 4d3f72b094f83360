"""vmagent sizing: the edge's resources, remote-write queues and on-disk outage buffer with `agent: vmagent`.

The same inputs as the Prometheus agent's model (components/edge_sizing.py): active series, scrape
interval, round trip to the hub and `bufferHours`. vmagent keeps no WAL of everything it scraped:
it holds what it cannot send yet in a file-backed queue (`-remoteWrite.tmpDataPath`), capped by
`-remoteWrite.maxDiskUsagePerURL`; above the cap it drops the oldest data. So the cap is what
`bufferHours` of samples take on disk, and the volume holds the cap plus what the queue keeps
beyond it.

MEASURED constants come from bench/edge_engines.py (Debian vmagent 1.79 on 2 vCPU, loopback,
50,005 series at 15 s, figures in bench/RESULTS.md "vmagent as an edge engine").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.edge_sizing import Resources, shard_throughput
from components.hub_sizing import RECOVERY_HEADROOM
from components.settings import EdgeSettings

# --- MEASURED (bench/edge_engines.py, one run: the three agents at once, 60 s receiver outage) ----
BASE_RSS_MIB = 13.5
"""vmagent RSS before its first scrape (13.4-13.5 MiB in every run)."""
RSS_PER_SERIES_KIB = (50.3 - BASE_RSS_MIB) * 1024 / 50_005
"""RSS above the base per scraped series: 50.3 MiB median of the last third at 50,005 series,
~0.75 KiB/series (the Prometheus agent's default queue: 252 MiB, 5.2 KiB/series, same run)."""
RSS_PEAK_RATIO = 170.3 / 50.3
"""Largest RSS of the run (170.3 MiB, through the outage and its replay) over the steady median:
vmagent's peak is far above its median, unlike the Prometheus agent's (1.19 in the same run)."""
CPU_SECONDS_PER_SAMPLE = (0.011 - 0.001) / (50_005 / 15)
"""0.011 cores at 3.3K samples/s over the whole run, outage and replay included, above the idle
cost; measured with the box's two cores busy with other work, so it errs high."""
IDLE_CPU_CORES = 0.001
"""A vmagent scraping 105 series every 5 s used 0.001 cores."""
BUFFER_BYTES_PER_SAMPLE = 18.5
"""3.5 MiB in the file-backed queue after 60 s down = 4 scrapes x 50,005 series: 18.5 B/sample,
the size of a compressed remote-write block per sample (the Prometheus agent sends 17.8-18.9 B per
sample on the wire). A few blocks wait in memory rather than on disk, so it errs low: the margin
below covers it."""

# --- vmagent facts (1.79 and later) --------------------------------------------------------------
CHUNK_BYTES = 512 * 2**20
"""The file-backed queue writes chunk files of this size and deletes one only once it is read
through, so disk use can exceed `maxDiskUsagePerURL` by up to one chunk."""
MIN_DISK_USAGE_BYTES = 500 * 10**6
"""vmagent's help: the minimum practical `-remoteWrite.maxDiskUsagePerURL` (one chunk)."""
BLOCK_SAMPLES = 10_000
"""`-remoteWrite.maxRowsPerBlock` default: samples per request."""

# --- POLICY ---------------------------------------------------------------------------------------
BUFFER_MARGIN = 1.25
"""Above the measured bytes/sample: label churn and compression vary with the workload."""
MEMORY_LIMIT_MARGIN = 1.5
"""As the Prometheus agent's: above the measured peak. vmagent sizes its in-memory queue and
caches from the container's memory limit (`-memory.allowedPercent` of it), so the limit also
bounds what a backlog may take."""


@dataclass(frozen=True)
class VmagentSizing:
    samples_per_second: float
    buffer_hours: float
    steady_memory_mib: float
    queues: int
    """`-remoteWrite.queues`: concurrent requests to the hub."""
    max_disk_usage_bytes: int
    """`-remoteWrite.maxDiskUsagePerURL`: `bufferHours` of samples; older ones are dropped."""
    volume_gib: int
    resources: Resources


def size_vmagent(series: int, scrape_interval_seconds: float, buffer_hours: float, rtt_seconds: float) -> VmagentSizing:
    """Resources, queues and disk buffer for a vmagent scraping `series` every interval."""
    if series <= 0 or scrape_interval_seconds <= 0 or buffer_hours <= 0 or rtt_seconds <= 0:
        raise ValueError("series, scrape interval, buffer hours and RTT must be positive")
    rate = series / scrape_interval_seconds
    steady_mib = BASE_RSS_MIB + series * RSS_PER_SERIES_KIB / 1024
    # One queue unless the hub's recovery rate needs more at this RTT. vmagent's queues are not
    # split by series (the Prometheus agent's shards are): two queues retrying after an outage
    # deliver a series' samples out of order, and a hub without an out-of-order window answers 400
    # and vmagent drops the block (measured: bench/RESULTS.md). The program's hubs accept
    # `bufferHours` out of order, so several queues still lose nothing there.
    queues = max(1, math.ceil(rate * RECOVERY_HEADROOM / shard_throughput(BLOCK_SAMPLES, rtt_seconds)))
    buffered = rate * buffer_hours * 3600 * BUFFER_BYTES_PER_SAMPLE * BUFFER_MARGIN
    max_disk = max(MIN_DISK_USAGE_BYTES, math.ceil(buffered))
    return VmagentSizing(
        samples_per_second=rate,
        buffer_hours=buffer_hours,
        steady_memory_mib=steady_mib,
        queues=queues,
        max_disk_usage_bytes=max_disk,
        volume_gib=math.ceil((max_disk + CHUNK_BYTES) / 2**30),
        resources=Resources(
            cpu_request_millicores=math.ceil(1000 * (IDLE_CPU_CORES + rate * CPU_SECONDS_PER_SAMPLE)),
            memory_request_mib=math.ceil(steady_mib),
            memory_limit_mib=math.ceil(MEMORY_LIMIT_MARGIN * steady_mib * RSS_PEAK_RATIO),
        ),
    )


def for_settings(settings: EdgeSettings) -> VmagentSizing:
    return size_vmagent(
        settings.series_estimate, settings.scrape_interval_seconds, settings.buffer_hours, settings.hub_rtt_ms / 1000
    )
