"""A recording upstream standing in for a backend the lab cannot run (Mimir, Loki, Tempo).

`python -m tests.lab.recorder PORT FILE` serves HTTP on 127.0.0.1:PORT; every request is appended
to FILE as one JSON line (method, path, headers as received: a repeated header appears twice) and
answered 200. Started and stopped by PID through `Launcher.spawn`, like the labs' other processes.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def read(path: Path) -> list[dict[str, Any]]:
    """Every request recorded so far."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def main(port: int, path: Path) -> None:
    class Recorder(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            entry = {
                "method": self.command,
                "path": self.path,
                "headers": [[k.lower(), v] for k, v in self.headers.items()],
                "bytes": len(body),
            }
            with path.open("a") as out:
                out.write(json.dumps(entry) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_DELETE = _record

        def log_message(self, format: str, *args: Any) -> None:  # the file is the log
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Recorder).serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
