"""Remote-write benchmarks on the real Prometheus 2.42: agent -> receiver on loopback.

`throughput`: for each load and queue_config, a fresh receiver (`--web.enable-remote-write-receiver`)
and a fresh agent (`--enable-feature=agent`) scraping the synthetic exporter. After a warm-up,
counter deltas over a window give sent samples/s (agent `prometheus_remote_storage_samples_total`)
and ingested samples/s (receiver `prometheus_tsdb_head_samples_appended_total`), with shards,
pending and failed/retried/dropped samples, agent RSS (/proc VmRSS) and CPU (/proc stat). Ratios
are against Prometheus' default queue_config measured in the same run, then the targets
(BACKLOG_FACTOR, RSS_TARGET), printed last. By default it runs the backlog scenario: 200K samples/s
offered to a receiver capped at HUB_CORES, which ingests a third of that, to the program's, the
default and the recommended queue configs in turn (about 4.5 minutes).

`outage`: one agent; the receiver is stopped, then restarted on its data dir. Every synthetic
series' sample count at the receiver is compared with the exporter's own count of scrapes in the
same window. Loss is printed, not asserted (pass/fail lab tests live in tests/lab).

Queue configs: `default` (Prometheus'), `recommended` (a large, often advised 100000/10/1000), `obsfleet`
(components/edge_sizing.py for the load, with the edge defaults), plus any `--queue NAME=JSON`.

Run from the project root with the project's venv (the obsfleet config imports components/):
    venv/bin/python bench/remote_write.py throughput --rounds 2
    venv/bin/python bench/remote_write.py outage --down 30
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _lab  # noqa: E402 (needs ROOT on sys.path)
from bench._lab import REMOTE, Lab, Metrics, Proc, log  # noqa: E402
from labkit.exporter import scrape_window  # noqa: E402
from labkit.memory import MemorySampler  # noqa: E402


@dataclass(frozen=True)
class Load:
    name: str
    targets: int
    interval: float

    def series(self, metrics: int, labels: int) -> int:
        return self.targets * _lab.exporter_series(metrics, labels)


# Saturating: 4 x 50K series at 1 s = 200K samples/s, at least 2.5x what a hub of HUB_CORES ingests.
# Steady: 1 x 50K at 1 s = 50K samples/s, which the reference box kept up with on one shard.
LOADS = {"saturating": Load("saturating", 4, 1.0), "steady": Load("steady", 1, 1.0)}
BASELINE = "default"
PROGRAM = "obsfleet"
COMPARED = (BASELINE, "recommended")
"""What the program's config is held against: Prometheus' defaults and the recommended large queue."""
HUB_CORES = 0.5
"""CPU budget of the receiver (the hub) in `throughput`. Uncapped, this box's receiver ingested
110-207K samples/s depending on other work, so a 200K/s load was barely a backlog; at ~7-10 us of
receiver CPU per sample, half a core ingests 50-70K/s: the saturating load is ~3x that on any box."""
BACKLOG_FACTOR = 2.5
"""The backlog scenario: offered load at least this multiple of what the hub ingests."""
RSS_TARGET = 0.65
"""Target: the program's agent RSS at most this fraction of the default config's, under backlog."""


def start_pair(lab: Lab, targets: Sequence[int], interval: float, queue: Optional[dict],
               hub_cap: Optional[_lab.CpuCap] = None, env: Optional[dict[str, str]] = None) -> tuple[Proc, Proc]:
    receiver = _lab.start_receiver(lab, cgroup=hub_cap)
    agent = _lab.start_scraper(lab, "agent", targets, interval, agent=True, receiver=receiver, queue=queue, env=env)
    return agent, receiver


def queue_total(metrics: Metrics, what: str) -> float:
    return metrics.sum(f"prometheus_remote_storage_{what}", remote_name=REMOTE)


# --- throughput ---------------------------------------------------------------------------------

@dataclass
class Snapshot:
    at: float
    agent: Metrics
    receiver: Metrics
    cpu: dict[str, float]
    """CPU seconds of the agent, the receiver and the exporter."""
    box: tuple[float, float]

    @classmethod
    def take(cls, agent: Proc, receiver: Proc, exporter: Proc) -> "Snapshot":
        cpu = {p.name: p.cpu_seconds() for p in (agent, receiver, exporter)}
        return cls(time.monotonic(), agent.metrics(), receiver.metrics(), cpu, _lab.box_cpu())


@dataclass
class Result:
    load: str
    queue: str
    round: int
    busy_before: float
    """Cores other work used just before this configuration started (should be ~0)."""
    effective: str
    """capacity/max_shards/max_samples_per_send as the agent reported them."""
    offered: float
    sent: float
    appended: float
    pending: float
    """Samples held in the agent's queues (mean of the window's start and end): the bounded backlog."""
    shards: float
    desired: float
    batches: float
    batch_ms: float
    bytes_per_sample: float
    lag_start: float
    lag_end: float
    failed: float
    retried: float
    dropped: float
    agent_cpu: float
    receiver_cpu: float
    exporter_cpu: float
    box_busy: float
    agent_rss_mib: float
    agent_rss_max_mib: float
    receiver_rss_max_mib: float

    @property
    def agent_us_per_sample(self) -> float:
        return self.agent_cpu / self.sent * 1e6 if self.sent else float("nan")

    @property
    def receiver_us_per_sample(self) -> float:
        return self.receiver_cpu / self.appended * 1e6 if self.appended else float("nan")

    @property
    def other_cpu(self) -> float:
        """Cores the box spent on anything but this bench's processes during the window."""
        return max(0.0, self.box_busy - self.agent_cpu - self.receiver_cpu - self.exporter_cpu)


def measure(lab: Lab, exporter: Proc, ports: Sequence[int], load: Load, name: str, queue: Optional[dict],
            args: argparse.Namespace, round_: int, hub_cap: Optional[_lab.CpuCap],
            env: Optional[dict[str, str]] = None) -> Result:
    busy_before = _lab.wait_for_quiet(args.quiet_wait)
    agent, receiver = start_pair(lab, ports[: load.targets], load.interval, queue, hub_cap, env)
    try:
        MemorySampler([agent, receiver]).run(args.warmup, args.sample_every)  # fails fast if either exits
        before = Snapshot.take(agent, receiver, exporter)
        agent_mem, receiver_mem = MemorySampler([agent, receiver]).run(args.seconds, args.sample_every)
        after = Snapshot.take(agent, receiver, exporter)
    finally:
        lab.stop(agent)
        lab.stop(receiver)
    elapsed = after.at - before.at

    def rate(side: str, metric: str, **match: str) -> float:
        return (getattr(after, side).sum(metric, **match) - getattr(before, side).sum(metric, **match)) / elapsed

    def cores(proc: Proc) -> float:
        return (after.cpu[proc.name] - before.cpu[proc.name]) / elapsed

    def queue_rate(what: str) -> float:
        return rate("agent", f"prometheus_remote_storage_{what}", remote_name=REMOTE)

    sent, batches = queue_rate("samples_total"), queue_rate("sent_batch_duration_seconds_count")
    return Result(
        load=load.name,
        queue=name,
        round=round_,
        busy_before=busy_before,
        effective=_lab.effective_queue(after.agent),
        offered=rate("agent", "prometheus_remote_storage_samples_in_total"),
        sent=sent,
        appended=rate("receiver", "prometheus_tsdb_head_samples_appended_total"),
        pending=(queue_total(before.agent, "samples_pending") + queue_total(after.agent, "samples_pending")) / 2,
        shards=queue_total(after.agent, "shards"),
        desired=queue_total(after.agent, "shards_desired"),
        batches=batches,
        batch_ms=queue_rate("sent_batch_duration_seconds_sum") / batches * 1000 if batches else float("nan"),
        bytes_per_sample=queue_rate("bytes_total") / sent if sent else float("nan"),
        lag_start=_lab.lag_seconds(before.agent),
        lag_end=_lab.lag_seconds(after.agent),
        # Totals over the agent's whole life, so nothing lost during the warm-up goes unseen.
        failed=queue_total(after.agent, "samples_failed_total"),
        retried=queue_total(after.agent, "samples_retried_total"),
        dropped=queue_total(after.agent, "samples_dropped_total"),
        agent_cpu=cores(agent),
        receiver_cpu=cores(receiver),
        exporter_cpu=cores(exporter),
        box_busy=_lab.busy_cores(before.box, after.box),
        agent_rss_mib=agent_mem.steady_mib(),
        agent_rss_max_mib=agent_mem.max_mib(),
        receiver_rss_max_mib=receiver_mem.max_mib(),
    )


def print_throughput(results: Sequence[Result]) -> None:
    def key(r: Result) -> list[object]:
        return [r.load, r.queue, r.round]

    print(_lab.table(
        ["load", "queue_config", "round", "capacity/max_shards/per_send", "offered/s", "sent/s", "receiver appended/s",
         "offered / appended", "pending samples", "shards (desired)", "batches/s", "batch ms", "B/sample",
         "lag start→end s", "failed/retried/dropped"],
        [key(r) + [r.effective, r.offered, r.sent, r.appended, f"{r.offered / r.appended:.2f}" if r.appended else "–",
                   r.pending, f"{r.shards:.0f} ({r.desired:.2f})", r.batches,
                   f"{r.batch_ms:.1f}", f"{r.bytes_per_sample:.1f}", f"{r.lag_start:.0f} → {r.lag_end:.0f}",
                   f"{r.failed:.0f}/{r.retried:.0f}/{r.dropped:.0f}"]
         for r in results]))
    print()
    print(_lab.table(
        ["load", "queue_config", "round", "agent CPU", "agent µs/sample", "receiver CPU", "receiver µs/sample",
         "exporter CPU", "other work CPU (before)", "box busy (of 2)", "agent RSS MiB (max)", "receiver RSS max MiB"],
        [key(r) + [f"{r.agent_cpu:.2f}", f"{r.agent_us_per_sample:.1f}", f"{r.receiver_cpu:.2f}",
                   f"{r.receiver_us_per_sample:.1f}", f"{r.exporter_cpu:.2f}",
                   f"{r.other_cpu:.2f} ({r.busy_before:.2f})", f"{r.box_busy:.2f}",
                   f"{r.agent_rss_mib:.0f} ({r.agent_rss_max_mib:.0f})", f"{r.receiver_rss_max_mib:.0f}"]
         for r in results]))
    print("\nAgent RSS: median of the last third of the window's samples. Ratios vs Prometheus' default "
          "queue_config, same load, same round (median over rounds, range in brackets):")
    baseline = {(r.load, r.round): r for r in results if r.queue == BASELINE}
    ratios: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for r in results:
        if r.queue != BASELINE:
            base = baseline[r.load, r.round]
            ratios.setdefault((r.load, r.queue), []).append(
                (r.sent / base.sent, r.agent_rss_mib / base.agent_rss_mib, r.agent_us_per_sample / base.agent_us_per_sample))
    for (load, queue), values in ratios.items():
        sent, rss, cpu = (_spread([v[i] for v in values]) for i in range(3))
        print(f"  {load:<10} {queue:<12} sent/s {sent}   agent RSS {rss}   agent CPU/sample {cpu}")
    print_targets(results)


def print_targets(results: Sequence[Result]) -> None:
    """The targets per load where the program's config and both COMPARED ran (medians over rounds)."""
    by_config: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        by_config.setdefault((r.load, r.queue), []).append(r)
    for load in dict.fromkeys(r.load for r in results):
        runs = {queue: rs for (name, queue), rs in by_config.items() if name == load}
        others = [q for q in COMPARED if q in runs]
        if PROGRAM not in runs or others != list(COMPARED):
            continue
        sent = {q: statistics.median(r.sent for r in rs) for q, rs in runs.items()}
        rss = {q: statistics.median(r.agent_rss_mib for r in rs) for q, rs in runs.items()}
        backlog = min(r.offered / r.appended for rs in runs.values() for r in rs if r.appended)
        best = max(others, key=sent.__getitem__)
        print(f"\n{load}: offered / hub-ingested >= {backlog:.2f} in every run "
              f"(scenario wants >= {BACKLOG_FACTOR:g}: {_verdict(backlog >= BACKLOG_FACTOR)})")
        print(f"  {PROGRAM} sent/s {sent[PROGRAM]:,.0f} vs best other ({best}) {sent[best]:,.0f}: "
              f"{sent[PROGRAM] / sent[best]:.2f}x (target >= 1.00: {_verdict(sent[PROGRAM] >= sent[best])})")
        ratio = rss[PROGRAM] / rss[BASELINE]
        print(f"  {PROGRAM} agent RSS {rss[PROGRAM]:,.0f} MiB vs {BASELINE} {rss[BASELINE]:,.0f} MiB: "
              f"{ratio:.2f}x (target <= {RSS_TARGET:g}: {_verdict(ratio <= RSS_TARGET)})")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _spread(values: Sequence[float]) -> str:
    median = f"{statistics.median(values):.2f}"
    return median if len(values) == 1 else f"{median} [{min(values):.2f}–{max(values):.2f}]"


def throughput(args: argparse.Namespace) -> None:
    envs = _lab.envs_by_config(args.agent_env)
    loads = [LOADS[name] for name in args.loads]
    queues = _lab.resolve_queues([BASELINE, *args.configs], args.queue)
    ports = _lab.free_ports(max(load.targets for load in loads))
    results = []
    with Lab() as lab:
        hub_cap = lab.cpu_cap(args.hub_cores) if args.hub_cores else None
        exporter = lab.exporter(ports, args.metrics, args.labels)
        # Rounds interleave the configs, so drift in the box's other load hits them alike.
        for round_, load in itertools.product(range(1, args.rounds + 1), loads):
            series = load.series(args.metrics, args.labels)
            for name, source in queues.items():
                queue = source(series, load.interval)
                env = _lab.agent_env(name, series, load.interval, envs)
                log(f"round {round_} {load.name}: {load.targets} x {series // load.targets:,} series at "
                    f"{load.interval:g} s, queue {name} {json.dumps(queue) if queue else '(Prometheus defaults)'}"
                    + (f", agent env {env}" if env else ""))
                results.append(measure(lab, exporter, ports, load, name, queue, args, round_, hub_cap, env))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2))
    print_throughput(results)


# --- outage -------------------------------------------------------------------------------------

def catch_up(agent: Proc, interval: float, timeout: float) -> float:
    """Seconds until the agent's remote-write lag is below one scrape interval again."""
    return _lab.wait_until(lambda: _lab.lag_seconds(agent.metrics()) < interval, timeout, agent,
                           "the agent to catch up", poll=0.5)


def sample_counts(receiver: Proc, metrics: int, t0: float, t1: float) -> Counter[int]:
    """How many synthetic series hold each number of samples in (t0, t1] at the receiver.

    One query per metric name: `count_over_time` drops the name, so series of different names
    would collide in one result vector.
    """
    counts: Counter[int] = Counter()
    window = _lab.duration(t1 - t0)
    for m in range(metrics):
        promql = f'count_values("n", count_over_time({_lab.metric_name(m)}[{window}]))'
        for row in _lab.query(receiver, promql, at=t1):
            counts[int(row["metric"]["n"])] += int(row["value"][1])
    return counts


def outage(args: argparse.Namespace) -> None:
    series = _lab.exporter_series(args.metrics, args.labels)
    sources = _lab.resolve_queues([args.config], args.queue)
    if args.config not in sources:
        raise SystemExit(f"error: queue config {args.config!r} is not available")
    queue = sources[args.config](series, args.interval)
    env = _lab.agent_env(args.config, series, args.interval, {})
    port = _lab.free_ports(1)[0]
    _lab.wait_for_quiet(args.quiet_wait)
    with Lab() as lab:
        lab.exporter([port], args.metrics, args.labels)
        agent, receiver = start_pair(lab, [port], args.interval, queue, env=env)
        started = time.time()
        log(f"agent → receiver, {series:,} series at {args.interval:g} s, queue {args.config}"
            + (f" (agent env {env})" if env else "") + "; "
            f"receiver stops in {args.before:g} s for {args.down:g} s")
        time.sleep(args.before)
        receiver_port, data_dir = int(receiver.url.rsplit(":", 1)[1]), receiver.data_dir
        lab.stop(receiver, keep_data=True)
        stopped = time.time()
        time.sleep(args.down)
        receiver = _lab.start_receiver(lab, port=receiver_port, data_dir=data_dir)
        ready = time.time()
        caught_up = catch_up(agent, args.interval, args.after + 2 * args.down)
        log(f"receiver back after {ready - stopped:.1f} s; agent caught up {caught_up:.1f} s after it was ready")
        time.sleep(max(0.0, args.after - caught_up))
        catch_up(agent, args.interval, 60)
        agent_metrics, receiver_metrics = agent.metrics(), receiver.metrics()
        scrapes = _lab.scrape_times(port)
        # From the second scrape at the earliest: the window's edge lies halfway to the one before.
        window = scrape_window(scrapes, max(started + args.interval, *scrapes[1:2]), time.time() - 2 * args.interval)
        if window is None:
            raise _lab.LabError(f"too few scrapes ({len(scrapes)}) around the outage run's window")
        t0, t1, expected = window
        counts = sample_counts(receiver, args.metrics, t0, t1)

    synthetic = args.metrics * args.labels
    received = sum(n * c for n, c in counts.items())
    during = sum(t0 < t <= t1 and stopped <= t <= ready for t in scrapes)
    print(_lab.table(["check", "result"], [
        ["outage", f"receiver stopped at t={stopped - started:.1f} s, ready again at t={ready - started:.1f} s"],
        ["catch-up", f"agent lag < {args.interval:g} s {caught_up:.1f} s after the receiver was ready"],
        ["agent failed / dropped / retried samples",
         " / ".join(f"{queue_total(agent_metrics, f'samples_{k}_total'):.0f}" for k in ("failed", "dropped", "retried"))],
        ["receiver out_of_order / out_of_bound / too_old samples (since restart)",
         " / ".join(f"{receiver_metrics.sum(f'prometheus_tsdb_{k}_samples_total'):.0f}"
                    for k in ("out_of_order", "out_of_bound", "too_old"))],
        ["window", f"t={t0 - started:.1f} → {t1 - started:.1f} s: {expected} scrapes served by the exporter, "
                   f"{during} of them while the receiver was down"],
        ["synthetic series with exactly that many samples", f"{counts[expected]:,} of {synthetic:,}"],
        ["series by sample count", ", ".join(f"{n}: {c:,}" for n, c in sorted(counts.items()))],
        ["samples at the receiver / expected", f"{received:,} / {expected * synthetic:,}"],
    ]))
    lost = expected * synthetic - received
    print(f"\nlost samples: {lost:,} ({lost / (expected * synthetic):.4%} of expected)")


# --- command line -------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    summary, details = __doc__.split("\n\n", 1)
    top = argparse.ArgumentParser(description=summary, epilog=details, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        _lab.add_quiet_wait_option(p, "before each run")
        _lab.add_load_options(p, "metric names per target")

    tp = sub.add_parser("throughput", help="samples/s, shards, RSS and CPU per queue_config and load")
    tp.add_argument("--seconds", type=float, default=30, help="measurement window per configuration (default 30)")
    tp.add_argument("--warmup", type=float, default=45,
                    help="seconds before the window opens (default 45: under backlog the default config's "
                         "autoscaler reaches its 200 shards in ~40 s)")
    tp.add_argument("--loads", nargs="+", choices=list(LOADS), default=["saturating"],
                    help="saturating = 4 targets x 50K series at 1 s; steady = 1 target (default: saturating)")
    tp.add_argument("--hub-cores", type=float, default=HUB_CORES,
                    help=f"CPU cap of the receiver, in cores (cgroup; default {HUB_CORES:g}; 0 = uncapped)")
    tp.add_argument("--configs", nargs="+", default=list(_lab.QUEUES), metavar="NAME",
                    help=f"queue configs (default: {' '.join(_lab.QUEUES)}); '{BASELINE}' always runs, first")
    tp.add_argument("--rounds", type=int, default=1, help="repeat every configuration, interleaved (default 1)")
    tp.add_argument("--sample-every", type=float, default=5, help="RSS sampling period, s (default 5)")
    _lab.add_env_option(tp)
    tp.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    common(tp)
    tp.set_defaults(run=throughput)

    op = sub.add_parser("outage", help="receiver down, restarted on its data; count samples per series")
    op.add_argument("--down", type=float, default=30, help="seconds the receiver is down (default 30)")
    op.add_argument("--before", type=float, default=30, help="seconds of normal operation first (default 30)")
    op.add_argument("--after", type=float, default=30, help="seconds after the restart (default 30)")
    op.add_argument("--interval", type=float, default=5, help="scrape interval, s (default 5)")
    op.add_argument("--config", default=BASELINE, metavar="NAME",
                    help="queue config: default, recommended, obsfleet or a --queue NAME (default: default)")
    common(op)
    op.set_defaults(run=outage)
    return top


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parser().parse_args(argv)
    _lab.run_cli(args.run, args)


if __name__ == "__main__":
    main()
