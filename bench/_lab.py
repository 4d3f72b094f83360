"""Shared bench machinery: synthetic exporter, Prometheus processes, CPU readers, queue configs.

Standard library only (the `obsfleet` queue config imports components/ lazily, when used); the
exporter's server is the labs' (labkit/exporter.py), with bench-sized bodies, and so is the
/metrics parser (labkit/metrics.py); memory is sampled by labkit/memory.py.
Everything listens on 127.0.0.1; every process a `Lab` starts is stopped
and its temp dir removed when the `with Lab()` block exits, also on Ctrl-C or SIGTERM.

Run as a script, this module is the synthetic exporter itself (the benches start it that way so
its CPU and RSS are a separate process's): `python bench/_lab.py exporter --ports 9101,9102`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (the exporter child process)
    sys.path.insert(0, str(ROOT))

from labkit.exporter import HOST, REQUESTS_PATH, MetricsServer  # noqa: E402
from labkit.memory import KIB  # noqa: E402
from labkit.metrics import Metrics  # noqa: E402 (the bench scripts import it from here)

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = KIB * KIB

# Series each target exposes beyond the synthetic ones: Prometheus adds up, scrape_duration_seconds,
# scrape_samples_scraped, scrape_samples_post_metric_relabeling and scrape_series_added.
SCRAPE_SERIES_PER_TARGET = 5
# Body variants the exporter rotates through: values change every scrape without re-rendering
# 50K lines per request (that would make the exporter, not Prometheus, the bottleneck).
BODY_VARIANTS = 4

RECOMMENDED_QUEUE = {"capacity": 100_000, "max_shards": 10, "max_samples_per_send": 1_000}
"""A large edge queue_config often recommended for agents (`recommended`): one the program's is
held against."""
SIZING = "components.edge_sizing"
REMOTE = "bench"  # remote_name of every remote_write queue the benches configure


# --- synthetic exporter -------------------------------------------------------------------------

def metric_name(index: int) -> str:
    return f"synth_metric_{index:03d}"


def render_body(metrics: int, labels: int, rng: random.Random) -> bytes:
    """One /metrics body: `metrics` gauge names x `labels` label sets, random values.

    Three labels per series: a body is ~3.9 MiB at 500 x 100, close to the reference runs' 3.7 MB.
    """
    lines = []
    for m in range(metrics):
        name = metric_name(m)
        lines.append(f"# TYPE {name} gauge")
        lines.extend(
            f'{name}{{pod="pod-{p:05d}",namespace="synthetic",container="app"}} {rng.uniform(0, 1e4):.3f}'
            for p in range(labels)
        )
    lines.append("")
    return "\n".join(lines).encode()


def serve_exporter(ports: Sequence[int], metrics: int, labels: int) -> None:
    """Serve the synthetic metrics on every port until SIGTERM (`/requests` lists scrape times)."""
    rng = random.Random(42)
    server = MetricsServer([render_body(metrics, labels, rng) for _ in range(BODY_VARIANTS)], ports)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def scrape_times(port: int) -> list[float]:
    """Wall-clock times at which the exporter on `port` was scraped."""
    return json.loads(http_get(f"http://{HOST}:{port}{REQUESTS_PATH}"))


def exporter_series(metrics: int, labels: int) -> int:
    """Active series one target produces in Prometheus (synthetic + per-scrape series)."""
    return metrics * labels + SCRAPE_SERIES_PER_TARGET


# --- HTTP and metrics ---------------------------------------------------------------------------

def http_get(url: str, timeout: float = 10.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def free_ports(count: int) -> list[int]:
    """Ports free on loopback now (held open together so they are distinct)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# --- /proc readers ------------------------------------------------------------------------------

def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (/proc/PID/stat utime + stime)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def box_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_cores(before: tuple[float, float], after: tuple[float, float]) -> float:
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total * (os.cpu_count() or 1) if total else 0.0


def wait_for_quiet(max_wait: float, threshold: float = 0.3, probe: float = 2.0) -> float:
    """Wait (up to `max_wait` s) until other work on the box uses under `threshold` cores.

    The benches share a 2-core machine with whatever else runs; their figures are only comparable
    when measured on a quiet box. Returns the busy cores last seen; warns if never quiet.
    """
    deadline = time.monotonic() + max_wait
    while True:
        before = box_cpu()
        time.sleep(probe)
        busy = busy_cores(before, box_cpu())
        if busy < threshold:
            return busy
        if time.monotonic() >= deadline:
            log(f"warning: {busy:.2f} cores busy with other work; figures will be skewed")
            return busy


# --- processes ----------------------------------------------------------------------------------

@dataclass
class Proc:
    """A child process started by a `Lab`, in its own session so nothing leaks to our terminal."""

    name: str
    popen: subprocess.Popen
    log: Path
    url: Optional[str] = None
    data_dir: Optional[Path] = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def assert_running(self) -> None:
        if not self.alive():
            raise LabError(f"{self.name} exited ({self.popen.returncode}):\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def metrics(self) -> Metrics:
        return Metrics(http_get(f"{self.url}/metrics").decode())

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (Prometheus flushes and exits cleanly), SIGKILL if it does not exit in time."""
        if not self.alive():
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


class LabError(RuntimeError):
    pass


CGROUP = Path("/sys/fs/cgroup")
CFS_PERIOD_US = 100_000


@dataclass(frozen=True)
class CpuCap:
    """A CPU-bandwidth cgroup (v2 `cpu.max`, or v1 CFS quota): its processes get at most `cores`.

    The benches cap the hub with it: a hub with a fixed CPU budget ingests a fixed rate on any box,
    whatever else runs here, so the offered load is a known multiple of what the hub ingests.
    """

    path: Path

    @classmethod
    def create(cls, name: str, cores: float) -> "CpuCap":
        quota = max(1000, round(cores * CFS_PERIOD_US))
        if "cpu" in _read(CGROUP / "cgroup.subtree_control").split():
            path, limits = CGROUP / name, {"cpu.max": f"{quota} {CFS_PERIOD_US}"}
        else:
            path = CGROUP / "cpu" / name
            limits = {"cpu.cfs_period_us": str(CFS_PERIOD_US), "cpu.cfs_quota_us": str(quota)}
        path.mkdir()
        try:
            for file, value in limits.items():
                (path / file).write_text(value)
        except OSError:
            path.rmdir()
            raise
        return cls(path)

    def join(self) -> None:
        """Move the calling process into the cgroup (a Popen `preexec_fn`)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        """Delete the cgroup once its processes have exited."""
        try:
            self.path.rmdir()
        except OSError as err:
            log(f"warning: could not remove cgroup {self.path}: {err}")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@dataclass
class Lab:
    """Owns a temp dir and every process started through it; `with Lab() as lab:` cleans up both."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="obsfleet-bench-")))
    procs: list[Proc] = field(default_factory=list)
    caps: list["CpuCap"] = field(default_factory=list)
    _counter: Iterator[int] = field(default_factory=itertools.count)
    _previous_sigterm: object = None

    def __enter__(self) -> "Lab":
        # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C, so __exit__ still stops the children.
        self._previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        for cap in self.caps:
            cap.remove()
        shutil.rmtree(self.root, ignore_errors=True)
        signal.signal(signal.SIGTERM, self._previous_sigterm)

    def path(self, stem: str) -> Path:
        return self.root / f"{stem}-{next(self._counter)}"

    def spawn(self, name: str, argv: Sequence[str], *, cgroup: Optional["CpuCap"] = None,
              env: Optional[Mapping[str, str]] = None, **attrs: object) -> Proc:
        log = self.path(name).with_suffix(".log")
        # Joined before exec, so every thread the process ever starts is inside the cap.
        join = cgroup.join if cgroup is not None else None
        with log.open("wb") as out:
            popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=join, env={**os.environ, **(env or {})})
        proc = Proc(name, popen, log, **attrs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc, keep_data: bool = False) -> None:
        """Stop one process now (and drop its data dir unless it is to be restarted on it)."""
        proc.stop()
        self.procs.remove(proc)
        if proc.data_dir and not keep_data:
            shutil.rmtree(proc.data_dir, ignore_errors=True)

    def exporter(self, ports: Sequence[int], metrics: int, labels: int) -> Proc:
        argv = [sys.executable, __file__, "exporter", "--ports", ",".join(map(str, ports)),
                "--metrics", str(metrics), "--labels", str(labels)]
        proc = self.spawn("exporter", argv, url=f"http://{HOST}:{ports[0]}")
        wait_until(lambda: _answers(f"http://{HOST}:{ports[-1]}{REQUESTS_PATH}"), 60, proc, "exporter to listen")
        return proc

    def cpu_cap(self, cores: float) -> Optional["CpuCap"]:
        """A cgroup holding its processes to `cores` CPUs (removed on exit); None, logged, where
        this process may not create one (not root, no cpu controller)."""
        try:
            cap = CpuCap.create(f"{self.root.name}-cap{next(self._counter)}", cores)
        except OSError as err:
            log(f"warning: cannot cap CPU at {cores:g} cores ({err}); running uncapped")
            return None
        self.caps.append(cap)
        return cap

    def prometheus(self, name: str, config: Mapping, *, agent: bool = False, receiver: bool = False,
                   port: Optional[int] = None, data_dir: Optional[Path] = None,
                   cgroup: Optional["CpuCap"] = None, env: Optional[Mapping[str, str]] = None) -> Proc:
        """Start /usr/bin/prometheus on loopback and wait until it is ready.

        `data_dir` reuses a stopped instance's TSDB/WAL (restart); otherwise a fresh one is made.
        `cgroup` caps its CPU; `env` adds to its environment (e.g. the Go runtime's GOGC).
        """
        port = port or free_ports(1)[0]
        data_dir = data_dir or self.path(f"{name}-data")
        config_file = self.path(f"{name}-config").with_suffix(".yml")
        # JSON is valid YAML, and keeps this module free of third-party imports.
        config_file.write_text(json.dumps(config, indent=2))
        storage = "--storage.agent.path" if agent else "--storage.tsdb.path"
        argv = [PROMETHEUS, f"--config.file={config_file}", f"{storage}={data_dir}",
                f"--web.listen-address={HOST}:{port}"]
        if agent:
            argv.append("--enable-feature=agent")
        if receiver:
            argv.append("--web.enable-remote-write-receiver")
        proc = self.spawn(name, argv, cgroup=cgroup, env=env, url=f"http://{HOST}:{port}", data_dir=data_dir)
        wait_until(lambda: _answers(f"{proc.url}/-/ready"), 60, proc, f"{name} to be ready")
        return proc


def _answers(url: str) -> bool:
    try:
        http_get(url, timeout=2)
        return True
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def wait_until(condition: Callable[[], bool], timeout: float, proc: Optional[Proc] = None,
               what: str = "condition", poll: float = 0.25) -> float:
    """Poll `condition` until true; return seconds waited. Fails fast if `proc` died."""
    start = time.monotonic()
    while not condition():
        if proc is not None and not proc.alive():
            raise LabError(f"{proc.name} exited ({proc.popen.returncode}) waiting for {what}:\n{proc.log_tail()}")
        if time.monotonic() - start > timeout:
            raise LabError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)
    return time.monotonic() - start


# --- Prometheus configs and queries ---------------------------------------------------------------

def duration(seconds: float) -> str:
    """A Prometheus duration string for a whole number of milliseconds."""
    return f"{round(seconds * 1000)}ms"


def scrape_config(targets: Sequence[int], interval: float, job: str = "synth") -> dict:
    return {
        "job_name": job,
        "scrape_interval": duration(interval),
        "scrape_timeout": duration(min(interval, 10)),
        "static_configs": [{"targets": [f"{HOST}:{port}" for port in targets]}],
    }


def remote_write(receiver: Proc, queue_config: Optional[Mapping] = None) -> dict:
    entry: dict = {"url": f"{receiver.url}/api/v1/write", "name": REMOTE}
    if queue_config:
        entry["queue_config"] = dict(queue_config)
    return entry


def start_receiver(lab: Lab, name: str = "receiver", **kwargs: object) -> Proc:
    """A server-mode Prometheus that only receives remote write (no scrapes)."""
    return lab.prometheus(name, {}, receiver=True, **kwargs)


def start_scraper(lab: Lab, name: str, targets: Sequence[int], interval: float, *, agent: bool,
                  receiver: Optional[Proc] = None, queue: Optional[Mapping] = None,
                  env: Optional[Mapping[str, str]] = None) -> Proc:
    """A Prometheus (agent or server) scraping `targets`, remote-writing to `receiver` if given."""
    config: dict = {"scrape_configs": [scrape_config(targets, interval)]}
    if receiver is not None:
        config["remote_write"] = [remote_write(receiver, queue)]
    return lab.prometheus(name, config, agent=agent, env=env)


def parse_env(spec: str) -> tuple[str, tuple[str, str]]:
    """`NAME=KEY=VALUE` from the command line: config NAME's agent runs with KEY=VALUE, e.g. `g50=GOGC=50`."""
    name, _, assignment = spec.partition("=")
    key, sep, value = assignment.partition("=")
    if not (name and key and sep):
        raise argparse.ArgumentTypeError(f"expected NAME=KEY=VALUE, got {spec!r}")
    return name, (key, value)


def add_env_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent-env", action="append", type=parse_env, default=[], metavar="NAME=KEY=VALUE",
                        help="run config NAME's agent with KEY=VALUE in its environment, e.g. g50=GOGC=50 "
                             "with --queue g50=... (repeatable)")


def add_load_options(parser: argparse.ArgumentParser, metrics_help: str = "metric names") -> None:
    """The synthetic load (--metrics, --labels) and the extra --queue configs, as every bench takes them."""
    parser.add_argument("--metrics", type=int, default=500, help=f"{metrics_help} (default 500)")
    parser.add_argument("--labels", type=int, default=100, help="label sets per metric name (default 100)")
    parser.add_argument("--queue", action="append", type=parse_queue, default=[], metavar="NAME=JSON",
                        help='extra queue_config, e.g. single=\'{"max_shards": 1}\' (repeatable)')


def add_quiet_wait_option(parser: argparse.ArgumentParser, when: str = "first") -> None:
    """--quiet-wait (see `wait_for_quiet`); `when`: when the bench waits, for its help."""
    parser.add_argument("--quiet-wait", type=float, default=30,
                        help=f"wait up to this long (s) for other work on the box to stop {when} (default 30)")


def run_cli(run: Callable[..., Any], *args: Any) -> Any:
    """`run(*args)` for a bench's main(): a LabError or an interrupt exits with its message (the `Lab`
    has stopped every process and removed its temp dir by then)."""
    try:
        return run(*args)
    except LabError as err:
        raise SystemExit(f"error: {err}")
    except KeyboardInterrupt:
        raise SystemExit("interrupted: every process stopped, temp dir removed")


def envs_by_config(specs: Iterable[tuple[str, tuple[str, str]]]) -> dict[str, dict[str, str]]:
    """`--agent-env` values grouped per queue config name."""
    envs: dict[str, dict[str, str]] = {}
    for name, (key, value) in specs:
        envs.setdefault(name, {})[key] = value
    return envs


def effective_queue(metrics: Metrics) -> str:
    """capacity/max_shards/max_samples_per_send as the agent reports them (what it really runs)."""
    keys = ("prometheus_remote_storage_shard_capacity", "prometheus_remote_storage_shards_max",
            "prometheus_remote_storage_max_samples_per_send")
    return "/".join(f"{metrics.sum(k, remote_name=REMOTE):.0f}" for k in keys)


def lag_seconds(metrics: Metrics) -> float:
    """How far the queue's newest sent sample trails the newest sample written to the WAL."""
    newest = metrics.sum("prometheus_remote_storage_highest_timestamp_in_seconds")
    sent = metrics.sum("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", remote_name=REMOTE)
    return max(0.0, newest - sent)


def query(proc: Proc, promql: str, at: Optional[float] = None) -> list[dict]:
    """An instant query's result vector."""
    params = {"query": promql}
    if at is not None:
        params["time"] = f"{at:.3f}"
    try:
        body = json.loads(http_get(f"{proc.url}/api/v1/query?{urllib.parse.urlencode(params)}", timeout=60))
    except urllib.error.HTTPError as err:  # 4xx/5xx carry Prometheus' own error message
        body = json.loads(err.read() or b"{}")
    if body.get("status") != "success":
        raise LabError(f"query {promql!r} failed: {body}")
    return body["data"]["result"]


# --- remote-write queue configs -------------------------------------------------------------------

QueueSource = Callable[[int, float], Optional[dict]]
"""(series, scrape interval s) -> queue_config dict; None for Prometheus' defaults."""


def obsfleet_sizing(series: int, interval: float) -> Any:
    """components/edge_sizing.py for this load with the edge defaults (bufferHours, assumed RTT), as
    an edge stack declaring `series` gets it. Imported lazily: it needs the project root on
    sys.path and the venv's pydantic."""
    edge_sizing = importlib.import_module(SIZING)
    settings = importlib.import_module("components.settings")
    buffer_hours = settings.EdgeSettings.model_fields["buffer_hours"].default
    return edge_sizing.size_edge(series, interval, buffer_hours)


def obsfleet_queue(series: int, interval: float) -> dict:
    """The queue_config the program generates for this load."""
    return obsfleet_sizing(series, interval).queue.prometheus()


def obsfleet_env(series: int, interval: float) -> dict[str, str]:
    """The environment the program gives its agent (its GC target) for this load."""
    agent_config = importlib.import_module("labkit.agent_config")
    return agent_config.agent_environment(obsfleet_sizing(series, interval))


QUEUES: dict[str, QueueSource] = {
    "default": lambda series, interval: None,
    "recommended": lambda series, interval: dict(RECOMMENDED_QUEUE),
    "obsfleet": obsfleet_queue,
}


ENVS: dict[str, Callable[[int, float], dict[str, str]]] = {"obsfleet": obsfleet_env}
"""Configs whose agent runs with an environment of its own: the program's, like in a cluster."""


def agent_env(name: str, series: int, interval: float, extra: Mapping[str, Mapping[str, str]]) -> Optional[dict[str, str]]:
    """Config NAME's agent environment: its own (ENVS) overlaid with `--agent-env` (`extra`)."""
    env = {**(ENVS[name](series, interval) if name in ENVS else {}), **extra.get(name, {})}
    return env or None


def parse_queue(spec: str) -> tuple[str, QueueSource]:
    """`NAME=JSON` from the command line, e.g. `single={"max_shards": 1}`."""
    name, sep, body = spec.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=JSON, got {spec!r}")
    try:
        config = json.loads(body)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"{name}: {err}") from err
    return name, lambda series, interval: dict(config)


def resolve_queues(names: Sequence[str], extra: Sequence[tuple[str, QueueSource]] = ()) -> dict[str, QueueSource]:
    """The named configs plus `--queue` ones, in order; obsfleet's skipped (logged) if its module is absent."""
    sources = {**QUEUES, **dict(extra)}
    chosen = dict.fromkeys([*names, *(name for name, _ in extra)])
    unknown = [name for name in chosen if name not in sources]
    if unknown:
        raise SystemExit(f"unknown queue config(s) {unknown}; known: {sorted(sources)}")
    if "obsfleet" in chosen and "obsfleet" not in dict(extra) and importlib.util.find_spec(SIZING) is None:
        log(f"skipping queue config 'obsfleet': {SIZING} does not exist yet")
        del chosen["obsfleet"]
    return {name: sources[name] for name in chosen}


# --- output -------------------------------------------------------------------------------------

def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table (pasteable into RESULTS.md)."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("---" for _ in headers) + "|")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}" if value else "0"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Synthetic Prometheus exporter for the benches.")
    sub = parser.add_subparsers(dest="command", required=True)
    exp = sub.add_parser("exporter", help="serve METRICS x LABELS gauge series on each port")
    exp.add_argument("--ports", required=True, help="comma-separated loopback ports, one target each")
    exp.add_argument("--metrics", type=int, default=500, help="metric names (default 500)")
    exp.add_argument("--labels", type=int, default=100, help="label sets per metric name (default 100)")
    args = parser.parse_args(argv)
    serve_exporter([int(p) for p in args.ports.split(",")], args.metrics, args.labels)


if __name__ == "__main__":
    main()
