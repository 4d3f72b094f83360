"""How the Prometheus agent's WAL truncation treats samples remote write has not sent yet.

The agent (2.42 through 3.x: prometheus/prometheus#17616, open) truncates its WAL every
`--storage.agent.wal-truncate-frequency` (default 2 h): it starts a new segment, then checkpoints
and deletes the lower two-thirds of the complete segments, except the one just closed, whether
remote write has read them or not. Remote write never sends samples from a checkpoint, and a
reader whose segment was deleted restarts past every complete segment: a truncation during a hub
outage can therefore lose unsent data long before `--storage.agent.retention.max-time`, which only
decides what the checkpoint keeps. Segments close at 128 MiB or at a truncation.

`truncation_loses_unsent` replays that rule over time for one outage; the sizing
(components/edge_sizing.py) picks the truncation frequency and the WAL volume with it, and
tests/components/test_edge_wal.py checks the choice over rates, outage offsets and buffers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SEGMENT_BYTES = 128 * 2**20
"""Prometheus' WAL segment size (`--storage.agent.wal-segment-size` is hidden and capped at 256 MB)."""
DEFAULT_TRUNCATE_FREQUENCY_S = 2 * 3600.0
"""Prometheus' default `--storage.agent.wal-truncate-frequency`."""
STEPS_PER_PERIOD = 400
WARM_UP_PERIODS = 5
"""Truncation periods replayed before the outage: the WAL reaches its steady shape."""


@dataclass
class _Segment:
    written_from: float
    written_to: float
    size: float = 0.0


@dataclass
class _Wal:
    segment_bytes: float
    segments: dict[int, _Segment] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.segments[0] = _Segment(0.0, 0.0)

    def append(self, now: float, size: float) -> None:
        current = max(self.segments)
        segment = self.segments[current]
        segment.size += size
        segment.written_to = now
        if segment.size >= self.segment_bytes:
            self.segments[current + 1] = _Segment(now, now)

    def truncate(self, now: float) -> list[_Segment]:
        """Prometheus' agent truncation: new segment, then delete the lower two-thirds of the
        complete segments but the newest complete one. Returns the deleted segments."""
        first, last = min(self.segments), max(self.segments)
        self.segments[last + 1] = _Segment(now, now)
        upto = first + (last - 1 - first) * 2 // 3
        if last - 1 < 0 or upto <= first:
            return []
        return [self.segments.pop(i) for i in range(first, upto + 1)]

    @property
    def size(self) -> float:
        return sum(s.size for s in self.segments.values())


@dataclass(frozen=True)
class Replay:
    lost: bool
    """A truncation deleted a segment holding samples remote write had not read."""
    peak_bytes: float
    """Largest WAL size over the run."""


def truncation_loses_unsent(
    bytes_per_second: float,
    frequency_s: float,
    outage_s: float,
    catch_up_s: float,
    offset_s: float,
    segment_bytes: float = SEGMENT_BYTES,
) -> Replay:
    """Replay the WAL through an outage starting `offset_s` after a truncation.

    Remote write reads everything as it is written except from the outage's start until it has
    caught up: during the outage it stays at the outage's start, then it reads the backlog,
    reaching the present `catch_up_s` after the outage ends.
    """
    wal = _Wal(segment_bytes)
    step = frequency_s / STEPS_PER_PERIOD
    start = WARM_UP_PERIODS * frequency_s + offset_s
    end = start + outage_s
    caught_up = end + catch_up_s
    horizon = caught_up + 2 * frequency_s
    now, next_truncation, peak, lost = 0.0, frequency_s, 0.0, False
    while now < horizon:
        now += step
        wal.append(now, bytes_per_second * step)
        if now >= next_truncation:
            next_truncation += frequency_s
            read_up_to = _reader_position(now, start, end, caught_up)
            lost = lost or any(s.written_to > read_up_to for s in wal.truncate(now))
        peak = max(peak, wal.size)
    return Replay(lost, peak)


def _reader_position(now: float, start: float, end: float, caught_up: float) -> float:
    """Write time of the newest sample remote write has read at `now`."""
    if now < start or now >= caught_up:
        return now
    if now < end:
        return start
    return start + (now - start) * (now - end) / (caught_up - end)


def truncation_deleting(segment: int) -> int:
    """Which truncation (1 = the first after the agent starts) deletes WAL segment `segment` when
    segments close only at truncations (less than a segment's bytes per period).

    A reader stuck in segment n loses data once segment n + 1 is deleted: it finishes the open
    segment n, fails to open n + 1, and restarts at the present, skipping everything unsent.
    """
    wal = _Wal(math.inf)
    truncations = 0
    while segment >= min(wal.segments):
        truncations += 1
        wal.truncate(float(truncations))
    return truncations
