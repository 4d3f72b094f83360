"""mTLS material from the program's previews, and a hub Prometheus serving it: shared by the lab tests.

The certificates are the ones the program declares (real PEMs under the review mocks): the hub's
ingest server Secret and an edge's client Secret. The hub runs the rendered web config (client
certificates required, verified against the hub's CA) with the remote-write receiver; it is
reached on loopback, its certificate verified for the ingest hostname.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from components import pki
from components.prometheus_tls import TlsFiles, hub_web_config, to_yaml
from review import engine
from tests.lab.metrics import Metrics
from tests.lab.processes import Launcher, Prometheus, wait_for

HUB_READY_TIMEOUT = 20  # seconds for a (re)started hub to serve HTTPS
REQUEST_TIMEOUT = 10  # seconds per HTTPS request to the hub


def component_state(result: engine.PreviewResult, component: str, kind: str, suffix: str) -> dict[str, Any]:
    """Real state of the one `kind` resource under a `component` whose name ends with `suffix`."""
    found = [
        state
        for urn, state in result.state.items()
        if f"{component}${kind}::" in urn and urn.endswith(suffix)
    ]
    assert len(found) == 1, f"{result.stack}: expected one {kind} '*{suffix}' under {component}, found {len(found)}"
    return found[0]


def write_pems(directory: Path, **pems: str) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in pems.items():
        path = directory / f"{name}.pem"
        path.write_text(text)
        path.chmod(0o600)
        paths[name] = str(path)
    return paths


@dataclass(frozen=True)
class Credentials:
    ca: str
    cert: Optional[str]
    key: Optional[str]

    def files(self, directory: Path) -> TlsFiles:
        paths = write_pems(directory, ca=self.ca, **({"cert": self.cert, "key": self.key} if self.cert else {}))
        return TlsFiles(paths["ca"], paths.get("cert"), paths.get("key"))


def server_secret(hub: engine.PreviewResult) -> dict[str, str]:
    """The hub's ingest server Secret (tls.crt, tls.key, ca.crt) as the program declares it."""
    return component_state(hub, pki.PKI_TYPE, "kubernetes:core/v1:Secret", "-server-secret")["stringData"]


def edge_credentials(edge: engine.PreviewResult) -> Credentials:
    """An edge's client identity from its Secret (read from the hub through its StackReference)."""
    client = component_state(edge, pki.EDGE_TYPE, "kubernetes:core/v1:Secret", "-secret")["stringData"]
    return Credentials(client[pki.CA_CERT], client[pki.TLS_CERT], client[pki.TLS_KEY])


class HubClient:
    """HTTPS to the hub on loopback, verifying its certificate for the ingest hostname."""

    def __init__(self, address: str, server_name: str, credentials: Credentials, directory: Path):
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.server_name = server_name
        files = credentials.files(directory)
        self.context = ssl.create_default_context(cafile=files.ca_file)
        if files.cert_file:
            self.context.load_cert_chain(files.cert_file, files.key_file)

    def get(self, path: str) -> tuple[int, bytes]:
        sock = socket.create_connection((self.host, self.port), timeout=REQUEST_TIMEOUT)
        connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        connection.sock = self.context.wrap_socket(sock, server_hostname=self.server_name)
        try:
            connection.request("GET", path, headers={"Host": self.server_name})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def query(self, expr: str, at: Optional[float] = None) -> list[dict[str, Any]]:
        """An instant query (at `at`, Unix seconds, else now): the result vector."""
        params = {"query": expr, **({"time": f"{at:.3f}"} if at is not None else {})}
        status, body = self.get("/api/v1/query?" + urllib.parse.urlencode(params))
        assert status == 200, body
        return json.loads(body)["data"]["result"]

    def parsed_metrics(self) -> Metrics:
        """The hub's own /metrics, parsed: one fetch for several counters."""
        status, body = self.get("/metrics")
        assert status == 200, body
        return Metrics(body.decode())


@dataclass
class Hub:
    process: Prometheus
    client: HubClient
    server_name: str
    hub_url: str

    def wait_ready(self) -> None:
        def ready() -> Optional[bool]:
            self.process.assert_running()
            return True if self.client.get("/-/ready")[0] == 200 else None

        wait_for(f"{self.process.name} to serve HTTPS", ready, timeout=HUB_READY_TIMEOUT)

    def restart(self, launcher: Launcher, name: str) -> None:
        """Start the (stopped) hub again on its port and TSDB, as `name` (its own log); wait until ready."""
        assert self.process.process.poll() is not None, f"{self.process.name} is still running"
        self.process = start_hub(launcher, name, port=self.process.port)
        self.wait_ready()


def start_hub(launcher: Launcher, name: str, port: Optional[int] = None) -> Prometheus:
    """A hub Prometheus on the files `start` wrote; its TSDB in `hub-data`, so a restart keeps it."""
    return launcher.start(
        name,
        "--config.file=hub.yml",
        "--web.enable-remote-write-receiver",
        "--web.config.file=web.yml",
        "--storage.tsdb.path=hub-data",
        port=port,
    )


def start(launcher: Launcher, hub_preview: engine.PreviewResult, reader: Credentials) -> Hub:
    """The hub of `hub_preview` (its server Secret, rendered web config), queried as `reader`; ready."""
    workdir = launcher.workdir
    server = server_secret(hub_preview)
    paths = write_pems(workdir / "hub-tls", cert=server[pki.TLS_CERT], key=server[pki.TLS_KEY], ca=server[pki.CA_CERT])
    (workdir / "web.yml").write_text(to_yaml(hub_web_config(TlsFiles(paths["ca"], paths["cert"], paths["key"]))))
    (workdir / "hub.yml").write_text(to_yaml({"global": {"scrape_interval": "15s"}}))
    process = start_hub(launcher, "hub")
    hub_url = hub_preview.outputs["remoteWriteUrl"]
    server_name = urllib.parse.urlsplit(hub_url).hostname
    assert server_name, hub_url
    hub = Hub(process, HubClient(process.address, server_name, reader, workdir / "query-tls"), server_name, hub_url)
    hub.wait_ready()
    return hub
