"""The edge's two engines side by side: Prometheus 2.42 agent (default queue, the program's queue
and GOGC) and vmagent 1.79 with the program's flags, 50K series at 15 s, through a hub outage.

All three run at once, each scraping its own port of one synthetic exporter (so each one's
scrapes are counted exactly) and remote-writing to its own receiver (a Prometheus server with the
remote-write receiver, plain HTTP on loopback like the other benches). After `--before` seconds
every receiver stops for `--down` seconds and restarts on its TSDB; after `--after` seconds more
the run ends once every agent has delivered past the counted window. Per engine: RSS before the
first scrape, RSS median of the last third and max (whole run), CPU cores (whole run), samples per
series at the receiver against the scrapes its exporter port served, and for vmagent the bytes
its file-backed queue held at the end of the outage per sample buffered. Ratios are against the
Prometheus agent with the default queue, measured in the same run; nothing here is a test.

    flock /work/bench.lock venv/bin/python bench/edge_engines.py            # ~8 min
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _lab  # noqa: E402 (needs ROOT on sys.path)
from bench._lab import HOST, KIB, MIB, Lab, Proc, log  # noqa: E402
from bench.remote_write import sample_counts  # noqa: E402
from labkit.exporter import scrape_window  # noqa: E402
from labkit.memory import MemorySampler  # noqa: E402

VMAGENT = shutil.which("vmagent") or "/usr/bin/vmagent"
BASELINE = "prometheus-default"
TARGETS = {"vmagent RSS": 0.3, "vmagent CPU": 0.5}
"""Targets: vmagent's RSS and CPU at most these multiples of the default Prometheus agent's."""
PENDING_BYTES = "vm_persistentqueue_bytes_pending"


@dataclass
class Engine:
    name: str
    agent: Proc
    receiver: Proc
    port: int


@dataclass
class Row:
    engine: str
    settings: str
    rss_before_mib: float
    rss_mib: float
    rss_max_mib: float
    cpu_cores: float
    kib_per_series: float
    expected_per_series: int
    series_complete: int
    series_total: int
    lost_samples: int
    buffer_bytes_per_sample: Optional[float]


def edge_settings(series: int, interval: float):  # -> EdgeSettings (lazy import: components need the venv)
    """The `edge-eu` stack declaring this load, as the sizing models see it."""
    stacks = importlib.import_module("review.stacks")
    return stacks.load("edge-eu").settings.model_copy(
        update={"series_estimate": series, "scrape_interval_seconds": int(interval)}
    )


def vmagent_argv(lab: Lab, receiver: Proc, port: int, target: int, interval: float, series: int) -> tuple[list[str], Path]:
    """vmagent with the program's flags for this load (queues, disk cap, identity labels), plain
    HTTP to `receiver`, scraping `target` at the edge's interval; and its buffer directory."""
    config = importlib.import_module("components.vmagent_config")
    launch = importlib.import_module("labkit.vmagent_config")
    sizing = importlib.import_module("components.vmagent_sizing")
    settings = edge_settings(series, interval)
    vm = sizing.for_settings(settings)
    scrape = config.scrape_config(settings, [_lab.scrape_config([target], interval)])
    config_file = lab.path("vmagent-config").with_suffix(".yml")
    config_file.write_text(json.dumps(scrape))
    data = lab.path("vmagent-data")
    flags = {
        **config.global_flags(settings, vm),
        "remoteWrite.url": f"{receiver.url}/api/v1/write",
        "remoteWrite.maxDiskUsagePerURL": config.disk_size(vm.max_disk_usage_bytes),
        "remoteWrite.tmpDataPath": str(data),
        "promscrape.config": str(config_file),
        "httpListenAddr": f"{HOST}:{port}",
    }
    return [VMAGENT, *launch.argv(flags)], data


def start_engines(lab: Lab, ports: Sequence[int], interval: float, series: int) -> tuple[dict[str, Engine], Path]:
    obsfleet_queue = _lab.obsfleet_queue(series, interval)
    obsfleet_env = _lab.obsfleet_env(series, interval)
    engines: dict[str, Engine] = {}
    prometheus: dict[str, tuple[Optional[dict], Optional[dict]]] = {
        BASELINE: (None, None),
        "prometheus-obsfleet": (obsfleet_queue, obsfleet_env),
    }
    for (name, (queue, env)), port in zip(prometheus.items(), ports):
        receiver = _lab.start_receiver(lab, f"receiver-{name}")
        agent = _lab.start_scraper(lab, name, [port], interval, agent=True, receiver=receiver, queue=queue, env=env)
        engines[name] = Engine(name, agent, receiver, port)
    receiver = _lab.start_receiver(lab, "receiver-vmagent")
    listen = _lab.free_ports(1)[0]
    argv, data = vmagent_argv(lab, receiver, listen, ports[2], interval, series)
    agent = lab.spawn("vmagent", argv, url=f"http://{HOST}:{listen}", data_dir=data)
    _lab.wait_until(lambda: _answers(f"{agent.url}/health"), 60, agent, "vmagent to listen")
    engines["vmagent"] = Engine("vmagent", agent, receiver, ports[2])
    return engines, data


def _answers(url: str) -> bool:
    try:
        _lab.http_get(url, timeout=2)
        return True
    except OSError:
        return False


def delivered_past(receiver: Proc, synthetic: int, after: float) -> bool:
    """Every synthetic series has a sample newer than `after` at `receiver`."""
    # timestamp() drops the name: keep it as a label so the series stay apart.
    named = 'label_replace({__name__=~"synth_metric_.*"}, "name", "$1", "__name__", "(.+)")'
    result = _lab.query(receiver, f"count(timestamp({named}) > {after:.3f})")
    return bool(result) and int(result[0]["value"][1]) >= synthetic


def restart_receivers(lab: Lab, engines: dict[str, Engine], down: float, on_down: Callable[[], None]) -> float:
    """Stop every receiver, `on_down` while they are down (after `down` s), restart them; the stop time."""
    kept = {}
    for engine in engines.values():
        kept[engine.name] = (int(engine.receiver.url.rsplit(":", 1)[1]), engine.receiver.data_dir)
        lab.stop(engine.receiver, keep_data=True)
    stopped = time.time()
    time.sleep(down)
    on_down()
    for engine in engines.values():
        port, data_dir = kept[engine.name]
        engine.receiver = _lab.start_receiver(lab, f"receiver-{engine.name}-2", port=port, data_dir=data_dir)
    return stopped


def run(args: argparse.Namespace) -> tuple[list[Row], dict[str, float]]:
    series = _lab.exporter_series(args.metrics, args.labels)
    synthetic = args.metrics * args.labels
    ports = _lab.free_ports(3)
    busy = _lab.wait_for_quiet(args.quiet_wait)
    with Lab() as lab:
        engines, vm_data = start_engines(lab, ports, args.interval, series)
        agents = [e.agent for e in engines.values()]
        empty = {e.name: trace.first_mib() for e, trace in zip(engines.values(), MemorySampler(agents).sample())}
        exporter = lab.exporter(ports, args.metrics, args.labels)
        started = time.time()
        cpu0 = {e.name: e.agent.cpu_seconds() for e in engines.values()}
        box0 = _lab.box_cpu()
        log(f"3 engines scraping {series:,} series every {args.interval:g} s; receivers stop at "
            f"+{args.before:g} s for {args.down:g} s; {args.after:g} s after")
        memory = MemorySampler(agents)
        traces = memory.run(args.before, args.sample_every)
        buffered: dict[str, float] = {}

        def measure_buffer() -> None:
            buffered["disk_bytes"] = sum(f.stat().st_size for f in vm_data.rglob("*") if f.is_file())
            buffered["pending_bytes"] = engines["vmagent"].agent.metrics().sum(PENDING_BYTES)

        stopped = restart_receivers(lab, engines, args.down, measure_buffer)
        ready = time.time()
        memory.run(args.after, args.sample_every)
        end = time.time()
        elapsed = end - started
        cpu = {e.name: (e.agent.cpu_seconds() - cpu0[e.name]) / elapsed for e in engines.values()}
        box_busy = _lab.busy_cores(box0, _lab.box_cpu())
        own = sum(cpu.values()) + sum(p.cpu_seconds() for p in (exporter,)) / elapsed
        rows = []
        for engine, trace in zip(engines.values(), traces):
            times = _lab.scrape_times(engine.port)
            # From the second scrape at the earliest: the window's edge lies halfway to the one before.
            window = scrape_window(times, max(started + args.interval, *times[1:2]), end - 2 * args.interval)
            if window is None:
                raise _lab.LabError(f"{engine.name}: too few scrapes ({len(times)}) around the window")
            low, high, expected = window
            _lab.wait_until(lambda: delivered_past(engine.receiver, synthetic, high), args.catch_up, engine.agent,
                            f"{engine.name} to deliver past the window")
            counts = sample_counts(engine.receiver, args.metrics, low, high)
            received = sum(n * c for n, c in counts.items())
            per_sample = None
            if engine.name == "vmagent":
                during = sum(stopped <= t <= ready for t in times)
                per_sample = buffered["disk_bytes"] / (during * series) if during else None
            rss = trace.steady_mib()
            rows.append(Row(
                engine.name, settings_of(engine.name, series, args.interval), empty[engine.name], rss,
                trace.max_mib(), cpu[engine.name], rss * MIB / KIB / series, expected, counts[expected],
                synthetic, expected * synthetic - received, per_sample,
            ))
    context = {"other_work_cores": max(0.0, box_busy - own), "quiet_before": busy, **buffered}
    return rows, context


def settings_of(name: str, series: int, interval: float) -> str:
    if name == BASELINE:
        return "Prometheus default queue (2500/200/500), GOGC 100"
    if name == "prometheus-obsfleet":
        q = _lab.obsfleet_queue(series, interval)
        env = _lab.obsfleet_env(series, interval)
        return f"program queue {q['capacity']}/{q['max_shards']}/{q['max_samples_per_send']}, GOGC {env['GOGC']}"
    sizing = importlib.import_module("components.vmagent_sizing").for_settings(edge_settings(series, interval))
    return f"program flags: {sizing.queues} queues, maxDiskUsagePerURL {sizing.max_disk_usage_bytes / 1e6:.0f} MB"


def report(rows: Sequence[Row], context: dict[str, float], args: argparse.Namespace) -> None:
    base = next(r for r in rows if r.engine == BASELINE)
    print(_lab.table(
        ["engine", "settings", "RSS before 1st scrape MiB", "RSS median, last third MiB", "RSS max MiB",
         "RSS / default", "CPU cores", "CPU / default", "KiB/series", "series with every sample", "lost samples",
         "disk bytes per buffered sample"],
        [[r.engine, r.settings, f"{r.rss_before_mib:.1f}", f"{r.rss_mib:.1f}", f"{r.rss_max_mib:.1f}",
          f"{r.rss_mib / base.rss_mib:.2f}", f"{r.cpu_cores:.3f}", f"{r.cpu_cores / base.cpu_cores:.2f}",
          f"{r.kib_per_series:.2f}", f"{r.series_complete:,} / {r.series_total:,} ({r.expected_per_series} each)",
          f"{r.lost_samples:,}", "–" if r.buffer_bytes_per_sample is None else f"{r.buffer_bytes_per_sample:.2f}"]
         for r in rows],
    ))
    print(f"\nother work on the box during the run: {context['other_work_cores']:.2f} cores "
          f"(before: {context['quiet_before']:.2f}); vmagent buffer at the end of the outage: "
          f"{context['disk_bytes'] / MIB:.1f} MiB on disk, {PENDING_BYTES} {context['pending_bytes'] / MIB:.1f} MiB")
    vm = next(r for r in rows if r.engine == "vmagent")
    for what, ratio in (("vmagent RSS", vm.rss_mib / base.rss_mib), ("vmagent CPU", vm.cpu_cores / base.cpu_cores)):
        print(f"{what} / Prometheus agent default: {ratio:.2f}x (target <= {TARGETS[what]:g}: "
              f"{'met' if ratio <= TARGETS[what] else 'NOT met'})")
    lost = {r.engine: r.lost_samples for r in rows}
    print(f"lost samples across the {args.down:g} s outage: {lost} "
          f"({'zero loss' if not any(lost.values()) else 'LOSS'})")


def parser() -> argparse.ArgumentParser:
    summary, details = __doc__.split("\n\n", 1)
    p = argparse.ArgumentParser(description=summary, epilog=details, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--interval", type=float, default=15, help="scrape interval, s (default 15)")
    p.add_argument("--before", type=float, default=180, help="seconds before the outage (default 180)")
    p.add_argument("--down", type=float, default=60, help="seconds the receivers are down (default 60)")
    p.add_argument("--after", type=float, default=180, help="seconds after the restart (default 180)")
    p.add_argument("--catch-up", type=float, default=180, help="longest wait for delivery past the window (default 180)")
    p.add_argument("--sample-every", type=float, default=5, help="RSS sampling period, s (default 5)")
    p.add_argument("--metrics", type=int, default=500, help="metric names (default 500)")
    p.add_argument("--labels", type=int, default=100, help="label sets per metric name (default 100)")
    _lab.add_quiet_wait_option(p, "first")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    return p


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parser().parse_args(argv)
    rows, context = _lab.run_cli(run, args)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": [asdict(r) for r in rows], **context}, indent=2))
    report(rows, context, args)


if __name__ == "__main__":
    main()
