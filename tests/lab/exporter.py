"""A synthetic exporter for lab tests: a pre-rendered /metrics body served from a thread of the test
process, every scrape's wall-clock time recorded, so a test knows exactly how many samples per series
the scraping agent produced in any window.

`with Exporter(metrics=20, labels=10) as exporter:` serves `lab_synthetic_000..019` x 10 label sets
on a free loopback port until the block ends.
"""

from __future__ import annotations

import bisect
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

PREFIX = "lab_synthetic_"
METRICS_PATH = "/metrics"


def render(metrics: int, labels: int) -> bytes:
    """One exposition body: `metrics` gauges x `labels` label sets, constant values (tests count
    samples). The `series` label is unique across names, so functions that drop the name
    (`timestamp()`) keep the series apart."""
    lines = []
    for m in range(metrics):
        name = f"{PREFIX}{m:03d}"
        lines.append(f"# TYPE {name} gauge")
        lines.extend(f'{name}{{series="{m * labels + s:06d}"}} {m * labels + s}' for s in range(labels))
    lines.append("")
    return "\n".join(lines).encode()


class Exporter:
    """Serves one body to whoever scrapes it; `scrapes` lists the times (time.time()) of every scrape."""

    selector = f'{{__name__=~"{PREFIX}.*"}}'
    """PromQL selector of every series this exporter exposes (add labels with `series_selector`)."""

    def __init__(self, metrics: int, labels: int):
        self.series = metrics * labels
        body = render(metrics, labels)
        self._scrapes: list[float] = []
        self._lock = threading.Lock()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: Prometheus reuses its scrape connection

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path != METRICS_PATH:
                    self.send_error(404)
                    return
                with exporter._lock:
                    exporter._scrapes.append(time.time())
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"exporter-{self.address}", daemon=True)
        self._thread.start()

    def __enter__(self) -> "Exporter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @classmethod
    def series_selector(cls, **labels: str) -> str:
        matchers = "".join(f',{name}="{value}"' for name, value in labels.items())
        return cls.selector[:-1] + matchers + "}"

    @property
    def scrapes(self) -> list[float]:
        with self._lock:
            return list(self._scrapes)

    def window(self, start: float, end: float) -> Optional[tuple[float, float, int]]:
        """`(low, high, n)`: the scrapes from the first at or after `start` to the last before `end`
        are `n`, and `low`/`high` lie halfway to their neighbours, so a query range (low, high]
        selects exactly their samples whatever the few milliseconds between a scrape's timestamp
        and its request. None until a scrape before `start` and one at or after `end` exist."""
        times = self.scrapes
        first = bisect.bisect_left(times, start)
        after = bisect.bisect_left(times, end)
        if first == 0 or after >= len(times) or after <= first:
            return None
        low = (times[first - 1] + times[first]) / 2
        high = (times[after - 1] + times[after]) / 2
        return low, high, after - first
