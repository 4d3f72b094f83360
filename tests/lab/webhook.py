"""A recording webhook receiver on loopback for the Alertmanager labs (standard library only):
every POST body (JSON) is kept with its arrival time."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"


class WebhookRecorder:
    """Records the JSON POSTed to any path of `url` (`.../<path>`): `received(path)` lists them."""

    def __init__(self) -> None:
        lock = threading.Lock()
        received: list[tuple[float, str, dict[str, Any]]] = []
        self._lock, self._received = lock, received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    received.append((time.time(), self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{HOST}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook", daemon=True)
        self._thread.start()

    def received(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for _, p, body in self._received if p == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "WebhookRecorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
