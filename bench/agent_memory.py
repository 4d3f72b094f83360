"""Memory of a Prometheus 2.42 agent vs a server scraping the same series, side by side.

All processes run at once against one synthetic target (default 50,005 series at 15 s):
  server           server mode, local TSDB, no remote write
  agent:<queue>    agent mode, remote-writing to its own receiver (one per --agents queue config)
  server+rw        server mode that also remote-writes (the like-for-like comparison), unless
                   --no-server-remote-write
  receiver*        one remote-write receiver per writer (duplicate writers would collide)
Each process's RSS is sampled before the first scrape (the exporter starts only once every
Prometheus is ready) and every --sample-every seconds after; steady state is the median of the
last third of samples, as in the reference measurements. The agent/server ratio is printed last,
against the common claim that agent mode uses 60-80% less memory.

    venv/bin/python bench/agent_memory.py --seconds 180
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _lab  # noqa: E402 (needs ROOT on sys.path)
from bench._lab import KIB, MIB, Lab, Proc, log  # noqa: E402
from labkit.memory import MemorySampler  # noqa: E402

CLAIM = (0.2, 0.4)
"""Agent mode uses 60-80% less memory, as commonly claimed: agent/server between 0.2 and 0.4."""
NA = float("nan")
SERVER = "server"
SERVER_RW = "server+rw"


@dataclass
class Row:
    process: str
    before_first_scrape_mib: float
    rss_mib: float
    rss_max_mib: float
    anon_mib: float
    heap_inuse_mib: float
    cpu_cores: float
    kib_per_series: float
    marginal_kib_per_series: float


def start_all(lab: Lab, port: int, interval: float, agents: dict[str, Optional[dict]],
              server_remote_write: bool, envs: dict[str, Optional[dict[str, str]]]) -> dict[str, Proc]:
    """Every Prometheus of the comparison, writers each with a receiver of their own."""
    procs = {SERVER: _lab.start_scraper(lab, SERVER, [port], interval, agent=False)}
    writers = {f"agent:{name}": (True, queue, envs[name]) for name, queue in agents.items()}
    if server_remote_write:
        writers[SERVER_RW] = (False, None, None)
    for name, (agent, queue, env) in writers.items():
        receiver = _lab.start_receiver(lab, f"receiver-{len(procs)}")
        procs[name] = _lab.start_scraper(lab, name.replace(":", "-"), [port], interval, agent=agent,
                                         receiver=receiver, queue=queue, env=env)
        procs[f"receiver ({name})"] = receiver
    return procs


def run(args: argparse.Namespace) -> tuple[list[Row], int]:
    series = _lab.exporter_series(args.metrics, args.labels)
    queues = _lab.resolve_queues(args.agents, args.queue)
    agents = {name: source(series, args.interval) for name, source in queues.items()}
    extra = _lab.envs_by_config(args.agent_env)
    envs = {name: _lab.agent_env(name, series, args.interval, extra) for name in agents}
    port = _lab.free_ports(1)[0]
    _lab.wait_for_quiet(args.quiet_wait)
    with Lab() as lab:
        procs = start_all(lab, port, args.interval, agents, args.server_remote_write, envs)
        # Their scrapes of the not-yet-listening exporter fail: this is each one's empty RSS.
        empty = MemorySampler(list(procs.values())).sample()
        procs["exporter"] = lab.exporter([port], args.metrics, args.labels)
        log(f"{len(procs) - 1} Prometheus processes scraping {series:,} series every {args.interval:g} s; "
            f"sampling RSS every {args.sample_every:g} s for {args.seconds:g} s")
        cpu_before = {name: p.cpu_seconds() for name, p in procs.items()}
        started = time.monotonic()
        traces = dict(zip(procs, MemorySampler(list(procs.values())).run(args.seconds, args.sample_every)))
        elapsed = time.monotonic() - started
        cpu = {name: (p.cpu_seconds() - cpu_before[name]) / elapsed for name, p in procs.items()}
        heap = {name: p.metrics().sum("go_memstats_heap_inuse_bytes") / MIB
                for name, p in procs.items() if name != "exporter"}
        for name in agents:
            log(f"agent:{name} ran capacity/max_shards/max_samples_per_send = "
                f"{_lab.effective_queue(procs[f'agent:{name}'].metrics())}" + (f", env {envs[name]}" if envs[name] else ""))
    before = {name: trace.first_mib() for name, trace in zip(procs, empty)}
    rows = []
    for name, trace in traces.items():
        rss, base = trace.steady_mib(), before.get(name, NA)
        per_series = (rss * MIB / KIB / series, (rss - base) * MIB / KIB / series) if name in heap else (NA, NA)
        rows.append(Row(name, base, rss, trace.max_mib(), trace.steady_mib("anon"), heap.get(name, NA), cpu[name],
                        *per_series))
    return rows, series


def _num(value: float, digits: int) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def report(rows: Sequence[Row], series: int, args: argparse.Namespace) -> None:
    headers = ["process", "RSS before 1st scrape MiB", "RSS median, last third MiB", "RSS max MiB",
               "RssAnon MiB", "Go heap in-use MiB", "CPU cores", "KiB/series", "marginal KiB/series"]
    print(_lab.table(headers, [
        [r.process, _num(r.before_first_scrape_mib, 1), _num(r.rss_mib, 1), _num(r.rss_max_mib, 1),
         _num(r.anon_mib, 1), _num(r.heap_inuse_mib, 1), _num(r.cpu_cores, 3), _num(r.kib_per_series, 2),
         _num(r.marginal_kib_per_series, 2)]
        for r in rows
    ]))
    by_name = {r.process: r for r in rows}
    server = by_name[SERVER]
    print(f"\n{series:,} series per process, {args.interval:g} s scrape, {args.seconds:g} s; "
          "KiB/series = RSS / series; marginal = above the process's RSS before its first scrape.")
    low, high = CLAIM
    for r in rows:
        if r.process.startswith("agent:"):
            ratio = r.rss_mib / server.rss_mib
            verdict = "confirmed" if low <= ratio <= high else "NOT reproduced"
            line = f"{r.process}: agent / server = {ratio:.2f} (claim {low:.1f}–{high:.1f}: {verdict})"
            if SERVER_RW in by_name:
                line += f"; agent / (server + remote_write) = {r.rss_mib / by_name[SERVER_RW].rss_mib:.2f}"
            print(line)


def parser() -> argparse.ArgumentParser:
    summary, details = __doc__.split("\n\n", 1)
    p = argparse.ArgumentParser(description=summary, epilog=details, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=120, help="sampling time after the exporter starts (default 120)")
    p.add_argument("--sample-every", type=float, default=5, help="RSS sampling period, s (default 5)")
    p.add_argument("--interval", type=float, default=15, help="scrape interval, s (default 15)")
    p.add_argument("--agents", nargs="+", default=["default", "obsfleet"], metavar="NAME",
                   help=f"one agent per queue config: {', '.join(_lab.QUEUES)} or a --queue NAME "
                        "(default: default obsfleet)")
    p.add_argument("--server-remote-write", action=argparse.BooleanOptionalAction, default=True,
                   help="also run a server that remote-writes (default: yes)")
    _lab.add_load_options(p)
    _lab.add_quiet_wait_option(p, "first")
    _lab.add_env_option(p)
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    return p


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parser().parse_args(argv)
    rows, series = _lab.run_cli(run, args)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=2))
    report(rows, series, args)


if __name__ == "__main__":
    main()
