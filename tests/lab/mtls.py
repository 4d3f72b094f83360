"""mTLS material from the program's previews, and a hub serving it: shared by the lab tests.

The certificates are the ones the program declares (real PEMs under the review mocks): the hub's
ingest server Secret and an edge's client Secret. The hub is a real Prometheus with the
remote-write receiver on plain loopback HTTP behind the hub's front door (tests/lab/front_door.py:
Debian nginx running the rendered config), reached on loopback with its certificate verified for
the ingest hostname, as an edge reaches it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
import socket
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from components import pki
from components.prometheus_tls import TlsFiles, to_yaml
from review import engine, mock_tls
from tests.lab import front_door
from tests.lab.preview_state import component_state, server_secret  # noqa: F401 (the labs' entry point)
from tests.lab.processes import Launcher, Prometheus, wait_for

REQUEST_TIMEOUT = 10  # seconds per HTTPS request to the hub

HUB = "hub-us"
"""The hub the agent labs start: it runs the Prometheus tier, so a real Prometheus stands in for its
receiver."""
EDGE = "edge-us-west"
"""`HUB`'s edge: its client certificate is the valid one."""
SERIES_TIMEOUT = 60  # seconds for the valid agent's series to reach the hub
REJECTION_TIMEOUT = 30  # seconds for a refused agent to count failed sends


REJECTED = {
    "no-cert": 'verify="NONE"',
    "foreign-ca": 'verify="FAILED:unable to verify the first certificate"',
    "expired": 'verify="FAILED:certificate has expired"',
}
"""Each bad credential, and the reason the front door logs for refusing it."""


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


def signed_by_ca(
    ca_pem: str, ca_key_pem: str, subject: x509.Name, names: list[x509.GeneralName], uses: list[str],
    not_before: dt.datetime, not_after: dt.datetime,
) -> Credentials:
    """A fresh key's certificate signed with the hub's CA key: what the CA could issue besides an edge's."""
    key = ec.generate_private_key(ec.SECP256R1())
    spec = mock_tls.CertificateSpec(subject=subject, names=names, allowed_uses=uses)
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    cert = mock_tls.issue(spec, key.public_key(), mock_tls.load_key(ca_key_pem), ca, not_before, not_after,
                          x509.random_serial_number())
    return Credentials(ca_pem, mock_tls.pem(cert), mock_tls.key_pem(key))


def self_signed(common_name: str) -> Credentials:
    """A fresh key and its self-signed CA certificate (valid for a day), its own trust anchor."""
    key = ec.generate_private_key(ec.SECP256R1())
    spec = mock_tls.CertificateSpec(subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]), is_ca=True)
    now = dt.datetime.now(dt.timezone.utc)
    cert = mock_tls.pem(mock_tls.issue(spec, key.public_key(), key, None, now, now + dt.timedelta(days=1),
                                       x509.random_serial_number()))
    return Credentials(cert, cert, mock_tls.key_pem(key))


def service_account_mount(directory: Path) -> Path:
    """A stand-in for a pod's service-account mount (`ca.crt`, `token`): vmagent reads the CA file
    when it checks its config."""
    directory.mkdir(parents=True)
    (directory / "ca.crt").write_text(self_signed("kubernetes").ca)
    (directory / "token").write_text("token")
    return directory


def edge_credentials(edge: engine.PreviewResult) -> Credentials:
    """An edge's client identity from its Secret (its own key, the certificate its hub signed)."""
    client = component_state(edge, pki.EDGE_TYPE, "kubernetes:core/v1:Secret", "-secret")["stringData"]
    return Credentials(client[pki.CA_CERT], client[pki.TLS_CERT], client[pki.TLS_KEY])


STATUS_LINE = re.compile(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ")


@dataclass(frozen=True)
class Exchange:
    statuses: list[int]
    """Each response's status, in order (several for pipelined requests)."""
    session: Optional[ssl.SSLSession]
    """The TLS session to offer next time."""
    resumed: bool
    """Whether this connection resumed the session offered."""


class HubClient:
    """HTTPS to the hub's front door on loopback, verifying its certificate for the ingest hostname."""

    def __init__(self, address: str, server_name: str, credentials: Credentials, directory: Path):
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        self.server_name = server_name
        files = credentials.files(directory)
        self.context = ssl.create_default_context(cafile=files.ca_file)
        if files.cert_file:
            self.context.load_cert_chain(files.cert_file, files.key_file)

    def request(
        self, method: str, path: str, body: bytes = b"", headers: Optional[list[tuple[str, str]]] = None
    ) -> tuple[int, bytes]:
        """One request; `headers` may repeat a name (sent as given)."""
        sock = socket.create_connection((self.host, self.port), timeout=REQUEST_TIMEOUT)
        connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        connection.sock = self.context.wrap_socket(sock, server_hostname=self.server_name)
        try:
            connection.putrequest(method, path, skip_host=True)
            connection.putheader("Host", self.server_name)
            for name, value in headers or []:
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def send(self, raw: bytes, session: Optional[ssl.SSLSession] = None) -> Exchange:
        """`raw` bytes as sent (any request line, framing, headers) over one TLS connection that
        offers `session` for resumption; read until the server closes."""
        sock = socket.create_connection((self.host, self.port), timeout=REQUEST_TIMEOUT)
        with self.context.wrap_socket(sock, server_hostname=self.server_name, session=session) as tls:
            tls.sendall(raw)
            received = b""
            while chunk := tls.recv(65536):
                received += chunk
            return Exchange([int(code) for code in STATUS_LINE.findall(received)], tls.session, tls.session_reused)



@dataclass
class Hub:
    process: Prometheus
    """The receiver, plain HTTP on loopback: queried directly, as the hub's Grafana does."""
    door: front_door.Door
    """Its front door."""
    server_name: str
    hub_url: str

    @property
    def address(self) -> str:
        """Where edges send: the front door's metrics listener."""
        return self.door.address("metrics")

    def restart(self, launcher: Launcher, name: str) -> None:
        """Start the (stopped) receiver again on its port and TSDB, as `name` (its own log); wait until ready."""
        assert self.process.process.poll() is not None, f"{self.process.name} is still running"
        self.process = start_receiver(launcher, name, port=self.process.port)
        self.process.wait_ready_http()


def start_receiver(launcher: Launcher, name: str, port: Optional[int] = None) -> Prometheus:
    """A hub Prometheus with the remote-write receiver; its TSDB in `hub-data`, so a restart keeps it."""
    return launcher.start(
        name,
        "--config.file=hub.yml",
        "--web.enable-remote-write-receiver",
        "--storage.tsdb.path=hub-data",
        port=port,
    )


def start(launcher: Launcher, hub_preview: engine.PreviewResult) -> Hub:
    """The Prometheus-tier hub of `hub_preview` behind its front door; ready."""
    (launcher.workdir / "hub.yml").write_text(to_yaml({"global": {"scrape_interval": "15s"}}))
    process = start_receiver(launcher, "hub")
    process.wait_ready_http()
    door = front_door.start(launcher, hub_preview, {"metrics": process.address})
    hub_url = hub_preview.outputs["remoteWriteUrl"]
    server_name = urllib.parse.urlsplit(hub_url).hostname
    assert server_name, hub_url
    return Hub(process, door, server_name, hub_url)


def wait_for_series(hub: Hub, agent: Prometheus, case: str = "valid") -> list[dict[str, Any]]:
    """`up` of `EDGE`'s agent labelled `lab_case=<case>`, once it is at the hub."""

    def arrived() -> Optional[list[dict[str, Any]]]:
        agent.assert_running()
        return hub.process.query(f'up{{cluster="{EDGE}",lab_case="{case}"}}') or None

    return wait_for(f'up{{cluster="{EDGE}"}} from {agent.name} at the hub', arrived, timeout=SERIES_TIMEOUT)


def assert_refused(
    hub: Hub, agent: Prometheus, case: str, credentials: Credentials, directory: Path,
    failed_sends: tuple[str, ...], refusal: str,
) -> None:
    """The front door refuses `credentials` outright (403) and logs why (`REJECTED[case]`); the agent
    using them counts failed sends (the `failed_sends` counters of its own /metrics), logs `refusal`,
    and nothing labelled `lab_case=<case>` reaches the hub."""
    direct = HubClient(hub.address, hub.server_name, credentials, directory)
    assert direct.request("POST", "/api/v1/write")[0] == 403

    def failed() -> Optional[bool]:
        agent.assert_running()
        metrics = agent.parsed_metrics()
        return True if sum(metrics.sum(name) for name in failed_sends) > 0 else None

    wait_for(f"{agent.name} to count failed sends", failed, timeout=REJECTION_TIMEOUT)
    wait_for(f"{agent.name} to log the refusal", lambda: True if refusal in agent.log() else None, timeout=10)
    wait_for(
        f"the front door to log the {case} refusal",
        lambda: True if REJECTED[case] in hub.door.process.log() else None,
        timeout=5,
    )
    assert hub.process.query(f'{{lab_case="{case}"}}') == []
