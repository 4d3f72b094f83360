"""Memory of running processes, read from /proc (Linux): VmRSS and RssAnon sampled over a run, and
its steady state as the sizing models take it (the median of the run's last third)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Sequence

KIB = 1024


def proc_status_kib(pid: int, field_name: str) -> int:
    """A `kB` field of /proc/PID/status (VmRSS, RssAnon, ...), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def steady_median(values: Sequence[float]) -> float:
    """Steady state: the median of the last third of samples."""
    tail = values[len(values) - max(1, len(values) // 3):]
    return statistics.median(tail)


@dataclass
class MemoryTrace:
    """VmRSS and RssAnon samples (KiB) of one process."""

    rss: list[int] = field(default_factory=list)
    anon: list[int] = field(default_factory=list)

    def steady_mib(self, which: str = "rss") -> float:
        return steady_median(getattr(self, which)) / KIB

    def max_mib(self) -> float:
        return max(self.rss) / KIB

    def first_mib(self) -> float:
        return self.rss[0] / KIB


class Sampled(Protocol):
    """A running process whose memory is sampled."""

    @property
    def pid(self) -> int: ...

    def assert_running(self) -> None:
        """Raise, saying why, once the process has exited."""


class MemorySampler:
    """One `MemoryTrace` per process; every `sample` or `run` adds to the same traces."""

    def __init__(self, procs: Sequence[Sampled]):
        self.procs = list(procs)
        self.traces = [MemoryTrace() for _ in self.procs]

    def sample(self) -> list[MemoryTrace]:
        """One sample of every process; fails if one of them has exited."""
        for proc, trace in zip(self.procs, self.traces):
            proc.assert_running()
            trace.rss.append(proc_status_kib(proc.pid, "VmRSS"))
            trace.anon.append(proc_status_kib(proc.pid, "RssAnon"))
        return self.traces

    def run(self, seconds: float, every: float) -> list[MemoryTrace]:
        """A sample now and every `every` seconds until `seconds` have passed."""
        deadline = time.monotonic() + seconds
        while True:
            self.sample()
            left = deadline - time.monotonic()
            if left <= 0:
                return self.traces
            time.sleep(min(every, left))
