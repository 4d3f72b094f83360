"""Synthetic exporters for the labs and the benches (standard library only).

`MetricsServer` serves pre-rendered /metrics bodies on loopback ports from threads of the calling
process and records every scrape's wall-clock time, so a caller knows exactly how many samples per
series the scraping Prometheus produced in any window. The benches run one as a child process
(bench/_lab.py) and read the times from its `/requests` page.

`with Exporter(metrics=20, labels=10) as exporter:` serves `lab_synthetic_000..019` x 10 label sets
with constant values (the labs count samples) on a free port until the block ends.
"""

from __future__ import annotations

import bisect
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Sequence

HOST = "127.0.0.1"
PREFIX = "lab_synthetic_"
METRICS_PATH = "/metrics"
REQUESTS_PATH = "/requests"
"""JSON list of the scrape times (time.time()) of the port it is asked on."""


class MetricsServer:
    """Serves `bodies` in turn, one per scrape (values change without re-rendering), on every port
    of `ports` (0: a free one); each port's `/requests` lists the times it was scraped, `scrapes()`
    those of the first port."""

    def __init__(self, bodies: Sequence[bytes], ports: Sequence[int] = (0,)):
        turn = itertools.count()
        lock = threading.Lock()
        self._lock = lock
        self._scrapes: dict[int, list[float]] = {}
        scrapes = self._scrapes

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: Prometheus reuses its scrape connection

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                port = self.server.server_address[1]
                if self.path == METRICS_PATH:
                    with lock:
                        scrapes[port].append(time.time())
                        body = bodies[next(turn) % len(bodies)]
                    ctype = "text/plain; version=0.0.4"
                elif self.path == REQUESTS_PATH:
                    with lock:
                        body = json.dumps(scrapes[port]).encode()
                    ctype = "application/json"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._servers = []
        for port in ports:
            server = ThreadingHTTPServer((HOST, port), Handler)
            server.daemon_threads = True
            scrapes[server.server_address[1]] = []
            self._servers.append(server)
        self.ports = [server.server_address[1] for server in self._servers]
        self._threads = [
            threading.Thread(target=server.serve_forever, name=f"exporter-{port}", daemon=True)
            for server, port in zip(self._servers, self.ports)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def address(self) -> str:
        """host:port of the first port (the only one, for the labs)."""
        return f"{HOST}:{self.ports[0]}"

    def scrapes(self) -> list[float]:
        with self._lock:
            return list(self._scrapes[self.ports[0]])

    def window(self, start: float, end: float) -> Optional[tuple[float, float, int]]:
        """`(low, high, n)` on the first port: see `scrape_window`."""
        return scrape_window(self.scrapes(), start, end)

    def __enter__(self) -> "MetricsServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


def scrape_window(times: Sequence[float], start: float, end: float) -> Optional[tuple[float, float, int]]:
    """`(low, high, n)`: the scrapes from the first at or after `start` to the last before `end` are
    `n`, and `low`/`high` lie halfway to their neighbours, so a query range (low, high] selects
    exactly their samples whatever the few milliseconds between a scrape's timestamp and its
    request. None until a scrape before `start` and one at or after `end` exist."""
    first = bisect.bisect_left(times, start)
    after = bisect.bisect_left(times, end)
    if first == 0 or after >= len(times) or after <= first:
        return None
    low = (times[first - 1] + times[first]) / 2
    high = (times[after - 1] + times[after]) / 2
    return low, high, after - first


def render(metrics: int, labels: int) -> bytes:
    """The labs' body: `metrics` gauges x `labels` label sets, constant values (tests count
    samples). The `series` label is unique across names, so functions that drop the name
    (`timestamp()`, `count_over_time()`) keep the series apart."""
    lines = []
    for m in range(metrics):
        name = f"{PREFIX}{m:03d}"
        lines.append(f"# TYPE {name} gauge")
        lines.extend(f'{name}{{series="{m * labels + s:06d}"}} {m * labels + s}' for s in range(labels))
    lines.append("")
    return "\n".join(lines).encode()


class Exporter(MetricsServer):
    """The labs' exporter: `render(metrics, labels)` on one free port."""

    selector = f'{{__name__=~"{PREFIX}.*"}}'
    """PromQL selector of every series this exporter exposes (add labels with `series_selector`)."""

    def __init__(self, metrics: int, labels: int):
        super().__init__([render(metrics, labels)])
        self.series = metrics * labels

    def __enter__(self) -> "Exporter":
        return self

    @classmethod
    def series_selector(cls, **labels: str) -> str:
        matchers = "".join(f',{name}="{value}"' for name, value in labels.items())
        return cls.selector[:-1] + matchers + "}"
