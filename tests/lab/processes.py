"""Real processes for lab tests (Debian Prometheus, vmagent and nginx, small Python servers): free
loopback ports, bounded waits, every process stopped by its PID.

Without the binaries these tests are skipped with the reason; with OBSFLEET_REQUIRE_LAB=1 (CI)
their absence fails instead.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, TypeVar

import pytest

from labkit.metrics import Metrics

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
ALERTMANAGER_PACKAGE = "prometheus-alertmanager"
VMAGENT = Path("/usr/bin/vmagent")
VMAGENT_PACKAGE = "victoria-metrics"
NGINX = Path("/usr/sbin/nginx")
LOG_TAIL_LINES = 60

T = TypeVar("T")


def require_binary(path: Path, package: str = "prometheus") -> str:
    """`path` if installed; else skip with the reason, or fail when OBSFLEET_REQUIRE_LAB=1 (CI)."""
    if path.is_file():
        return str(path)
    reason = f"{path} is absent (Debian package `{package}`): the test needs the real binary"
    if os.environ.get("OBSFLEET_REQUIRE_LAB") == "1":
        pytest.fail(f"{reason}; OBSFLEET_REQUIRE_LAB=1 makes it mandatory", pytrace=False)
    pytest.skip(reason)


def require_prometheus() -> None:
    require_binary(PROMETHEUS)


def promtool_check(*args: str) -> subprocess.CompletedProcess[str]:
    """`promtool check <args>` (config, web-config, rules ...), its output captured."""
    return subprocess.run([require_binary(PROMTOOL), "check", *args], capture_output=True, text=True, timeout=60)


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, probe: Callable[[], Optional[T]], timeout: float, interval: float = 0.25) -> T:
    """Poll `probe` until it returns something other than None; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except OSError as err:  # not listening yet, handshake refused, ...
            last_error, result = err, None
        if result is not None:
            return result
        time.sleep(interval)
    detail = f" (last error: {last_error})" if last_error else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{detail}", pytrace=False)


class Process:
    """One running process, its output in `<name>.log` in its work directory."""

    def __init__(self, name: str, argv: list[str], workdir: Path, env: Optional[Mapping[str, str]] = None):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def assert_running(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.log()[-4000:]}", pytrace=False)

    def stop(self, grace: float = 3) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds (a rejected agent would keep flushing for a minute)."""
        self.terminate()
        self.reap(time.monotonic() + grace)

    def kill(self) -> None:
        """SIGKILL: a crash, no clean shutdown."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def reap(self, deadline: float) -> None:
        """Wait for the exit until `deadline` (monotonic), then kill."""
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class Prometheus(Process):
    """One running `prometheus` (or another binary with a `listen` flag) on a loopback port."""

    def __init__(
        self,
        name: str,
        args: list[str],
        workdir: Path,
        port: Optional[int] = None,
        env: Optional[Mapping[str, str]] = None,
        binary: Path = PROMETHEUS,
        listen: str = "--web.listen-address",
    ):
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        super().__init__(name, [str(binary), *args, f"{listen}={self.address}"], workdir, env)

    def metrics(self) -> str:
        """Its own /metrics (plain HTTP; the hub is reached over mTLS only through its front door)."""
        with urllib.request.urlopen(f"http://{self.address}/metrics", timeout=5) as response:
            return response.read().decode()

    def parsed_metrics(self) -> Metrics:
        """Its own /metrics, parsed: one fetch for several counters."""
        return Metrics(self.metrics())

    def query(self, expr: str, at: Optional[float] = None) -> list[dict[str, Any]]:
        """An instant query over plain HTTP (at `at`, Unix seconds, else now): the result vector."""
        params = {"query": expr, **({"time": f"{at:.3f}"} if at is not None else {})}
        url = f"http://{self.address}/api/v1/query?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())["data"]["result"]

    def wait_ready_http(self, timeout: float = 20) -> None:
        def ready() -> Optional[bool]:
            self.assert_running()
            with urllib.request.urlopen(f"http://{self.address}/-/ready", timeout=2) as response:
                return True if response.status == 200 else None

        wait_for(f"{self.name} to be ready", ready, timeout)


class Launcher:
    """Starts processes and stops every one of them when its fixture ends."""

    launched: list[Process] = []
    """Every process of the session, for the logs attached to a failing test."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.mine: list[Process] = []

    def start(
        self, name: str, *args: str, port: Optional[int] = None, env: Optional[Mapping[str, str]] = None
    ) -> Prometheus:
        """`port`: one taken with `free_port()` beforehand, when its config must name it (a self-scrape);
        `env`: added to the process's environment (the agent's GOGC)."""
        return self._track(Prometheus(name, list(args), self.workdir, port, env))

    def start_vmagent(self, name: str, *args: str, port: Optional[int] = None) -> Prometheus:
        """A vmagent (skips when the binary is absent); `port` as for `start`."""
        require_binary(VMAGENT, VMAGENT_PACKAGE)
        return self._track(Prometheus(name, list(args), self.workdir, port, binary=VMAGENT, listen="-httpListenAddr"))

    def start_alertmanager(self, name: str, *args: str, port: Optional[int] = None) -> Prometheus:
        """A `prometheus-alertmanager` (skips when the binary is absent); `port` as for `start`."""
        require_binary(ALERTMANAGER, ALERTMANAGER_PACKAGE)
        return self._track(Prometheus(name, list(args), self.workdir, port, binary=ALERTMANAGER))

    def spawn(self, name: str, *argv: str) -> Process:
        """Any other program (nginx, a lab server), stopped with the rest."""
        return self._track(Process(name, list(argv), self.workdir))

    def _track(self, process: T) -> T:
        assert isinstance(process, Process)
        self.mine.append(process)
        Launcher.launched.append(process)
        return process

    def stop_all(self, grace: float = 3) -> None:
        """Stop them all at once: one grace period, not one each."""
        for process in self.mine:
            process.terminate()
        deadline = time.monotonic() + grace
        for process in self.mine:
            process.reap(deadline)


def launching(workdir: Path) -> Iterator[Launcher]:
    """A fixture's body: a Launcher in `workdir` whose processes all stop when the fixture ends."""
    require_prometheus()
    launcher = Launcher(workdir)
    yield launcher
    launcher.stop_all()
