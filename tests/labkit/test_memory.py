"""labkit/memory.py: process memory sampled from /proc, across phases, failing once a process exits."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Iterator

import pytest

from labkit.memory import KIB, MemorySampler, MemoryTrace, proc_status_kib, steady_median


class Child:
    """A Python child that holds `mib` MiB until it is stopped."""

    def __init__(self, mib: int):
        script = (
            f"import time; block = bytearray({mib} * 2**20); block[::4096] = b'x' * len(block[::4096]); "
            "print(flush=True); time.sleep(600)"
        )
        self.popen = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert self.popen.stdout is not None
        self.popen.stdout.readline()  # the block is touched

    @property
    def pid(self) -> int:
        return self.popen.pid

    def assert_running(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"child {self.pid} exited ({self.popen.returncode})")

    def stop(self) -> None:
        self.popen.kill()
        self.popen.wait(timeout=10)


@pytest.fixture
def children() -> Iterator[tuple[Child, Child]]:
    small, large = Child(1), Child(64)
    try:
        yield small, large
    finally:
        small.stop()
        large.stop()


def test_samples_add_to_the_same_traces_and_tell_processes_apart(children: tuple[Child, Child]) -> None:
    small, large = children
    sampler = MemorySampler([small, large])
    sampler.sample()
    traces = sampler.run(0, 0)
    assert [len(t.rss) for t in traces] == [2, 2] and [len(t.anon) for t in traces] == [2, 2]
    assert traces is sampler.traces
    # The 64 MiB block is resident in one child and not the other.
    assert traces[1].steady_mib() - traces[0].steady_mib() >= 60
    assert traces[1].steady_mib("anon") - traces[0].steady_mib("anon") >= 60
    assert traces[1].first_mib() == traces[1].rss[0] / KIB


def test_sampling_an_exited_process_fails(children: tuple[Child, Child]) -> None:
    small, large = children
    sampler = MemorySampler([small, large])
    sampler.sample()
    large.stop()
    with pytest.raises(RuntimeError, match="exited"):
        sampler.run(1, 0.1)


def test_status_fields_are_read_in_kib() -> None:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    assert line.split()[2] == "kB"
    assert proc_status_kib(os.getpid(), "VmRSS") > 0
    with pytest.raises(KeyError):
        proc_status_kib(os.getpid(), "NoSuchField")


def test_steady_state_is_the_median_of_the_last_third() -> None:
    assert steady_median([100, 100, 100, 1, 2, 9]) == 5.5
    assert steady_median([7]) == 7
    trace = MemoryTrace(rss=[KIB, 2 * KIB, 8 * KIB], anon=[KIB, KIB, 4 * KIB])
    assert (trace.steady_mib(), trace.steady_mib("anon"), trace.max_mib(), trace.first_mib()) == (8, 4, 8, 1)
