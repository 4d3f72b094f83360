"""mTLS lab: a real hub Prometheus and real agents, with the certificates the program declares.

The hub runs with the remote-write receiver behind the rendered web config (client certificates
required, verified against the hub's CA); agents scrape themselves and remote-write to it. The
certificates come from the offline preview of the real stacks: the hub's server Secret, the
`edge-eu` stack's client Secret (read from the hub through its StackReference), `hub-us`'s
credentials for a foreign CA, and an expired certificate signed with the hub's CA key.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import socket
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from components import pki
from components.prometheus_tls import TlsFiles, hub_web_config, remote_write, to_yaml
from review import engine, mock_tls
from tests.lab.processes import Launcher, Prometheus, wait_for

pytestmark = pytest.mark.lab

EDGE = "edge-eu"
SERIES_TIMEOUT = 60  # seconds for the valid agent's series to reach the hub
REJECTION_TIMEOUT = 30  # seconds for a rejected agent to report failed sends


def _component_state(result: engine.PreviewResult, component: str, kind: str, suffix: str) -> dict[str, Any]:
    """Real state of the one `kind` resource under a `component` whose name ends with `suffix`."""
    found = [
        state
        for urn, state in result.state.items()
        if f"{component}${kind}::" in urn and urn.endswith(suffix)
    ]
    assert len(found) == 1, f"{result.stack}: expected one {kind} '*{suffix}' under {component}, found {len(found)}"
    return found[0]


def _write(directory: Path, **pems: str) -> dict[str, str]:
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
        paths = _write(directory, ca=self.ca, **({"cert": self.cert, "key": self.key} if self.cert else {}))
        return TlsFiles(paths["ca"], paths.get("cert"), paths.get("key"))


@pytest.fixture(scope="module")
def material(fleet: dict[str, engine.PreviewResult]) -> dict[str, Any]:
    """Everything the lab needs, from the previews of hub, edge-eu and hub-us."""
    hub, edge, foreign = fleet["hub"], fleet[EDGE], fleet["hub-us"]
    server = _component_state(hub, pki.PKI_TYPE, "kubernetes:core/v1:Secret", "-server-secret")["stringData"]
    client = _component_state(edge, pki.EDGE_TYPE, "kubernetes:core/v1:Secret", "-secret")["stringData"]
    ca_key = _component_state(hub, pki.PKI_TYPE, "tls:index/privateKey:PrivateKey", "-ca-key")["privateKeyPem"]
    us_edge = next(iter(foreign.outputs["edgeCredentials"].values()))
    return {
        "hub_url": hub.outputs["remoteWriteUrl"],
        "server": server,
        "valid": Credentials(client[pki.CA_CERT], client[pki.TLS_CERT], client[pki.TLS_KEY]),
        "no-cert": Credentials(client[pki.CA_CERT], None, None),
        "foreign-ca": Credentials(client[pki.CA_CERT], us_edge["cert"], us_edge["key"]),
        "expired": _expired(client[pki.CA_CERT], ca_key, client[pki.TLS_CERT]),
    }


def _expired(ca_pem: str, ca_key_pem: str, edge_cert_pem: str) -> Credentials:
    """The edge's identity, signed by the hub's own CA, but valid only until yesterday."""
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    edge = x509.load_pem_x509_certificate(edge_cert_pem.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    spec = mock_tls.CertificateSpec(
        subject=edge.subject,
        names=list(edge.extensions.get_extension_for_class(x509.SubjectAlternativeName).value),
        allowed_uses=pki.CLIENT_USES,
    )
    now = dt.datetime.now(dt.timezone.utc)
    cert = mock_tls.issue(spec, key.public_key(), mock_tls.load_key(ca_key_pem), ca, now - dt.timedelta(days=2), now - dt.timedelta(days=1))
    return Credentials(ca_pem, mock_tls.pem(cert), mock_tls.key_pem(key))


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
        sock = socket.create_connection((self.host, self.port), timeout=5)
        connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
        connection.sock = self.context.wrap_socket(sock, server_hostname=self.server_name)
        try:
            connection.request("GET", path, headers={"Host": self.server_name})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def query(self, expr: str) -> list[dict[str, Any]]:
        status, body = self.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        assert status == 200, body
        return json.loads(body)["data"]["result"]


@dataclass
class Hub:
    process: Prometheus
    client: HubClient
    server_name: str
    hub_url: str


@pytest.fixture(scope="module")
def hub(module_launcher: Launcher, material: dict[str, Any]) -> Hub:
    workdir = module_launcher.workdir
    server = material["server"]
    paths = _write(workdir / "hub-tls", cert=server[pki.TLS_CERT], key=server[pki.TLS_KEY], ca=server[pki.CA_CERT])
    (workdir / "web.yml").write_text(to_yaml(hub_web_config(TlsFiles(paths["ca"], paths["cert"], paths["key"]))))
    (workdir / "hub.yml").write_text(to_yaml({"global": {"scrape_interval": "15s"}}))
    process = module_launcher.start(
        "hub",
        "--config.file=hub.yml",
        "--web.enable-remote-write-receiver",
        "--web.config.file=web.yml",
        "--storage.tsdb.path=hub-data",
    )
    server_name = urllib.parse.urlsplit(material["hub_url"]).hostname
    client = HubClient(process.address, server_name, material["valid"], workdir / "query-tls")

    def ready() -> Optional[bool]:
        process.assert_running()
        return True if client.get("/-/ready")[0] == 200 else None

    wait_for("the hub to serve HTTPS", ready, timeout=20)
    return Hub(process, client, server_name, material["hub_url"])


# Each bad credential, and the reason the hub's TLS handshake gives for refusing it.
REJECTED = {
    "no-cert": "client didn't provide a certificate",
    "foreign-ca": "certificate signed by unknown authority",
    "expired": "certificate has expired or is not yet valid",
}


def _start_agent(launcher: Launcher, hub: Hub, case: str, credentials: Credentials) -> Prometheus:
    """An agent labelled `lab_case=<case>` scraping itself and remote-writing to the hub with `credentials`."""
    workdir = launcher.workdir
    files = credentials.files(workdir / f"{case}-tls")
    entry = remote_write(hub.hub_url, files, address=hub.process.address)
    # Short batches and backoffs: the lab measures acceptance, not throughput.
    entry["queue_config"] = {"batch_send_deadline": "1s", "min_backoff": "100ms", "max_backoff": "1s"}
    agent_name = f"agent-{case}"
    config = workdir / f"{agent_name}.yml"
    process = launcher.start(
        agent_name,
        "--enable-feature=agent",
        f"--config.file={config.name}",
        f"--storage.agent.path={agent_name}-data",
    )
    config.write_text(
        to_yaml(
            {
                "global": {"scrape_interval": "1s", "external_labels": {"cluster": EDGE, "lab_case": case}},
                "scrape_configs": [{"job_name": "agent", "static_configs": [{"targets": [process.address]}]}],
                "remote_write": [entry],
            }
        )
    )
    return process


@pytest.fixture(scope="module")
def agents(hub: Hub, module_launcher: Launcher, material: dict[str, Any]) -> dict[str, Prometheus]:
    """One agent per case, started together: each spends seconds replaying its WAL before sending."""
    started = {case: _start_agent(module_launcher, hub, case, material[case]) for case in ["valid", *REJECTED]}
    for agent in started.values():
        agent.wait_ready_http()
    return started


def test_hub_receives_the_edges_series_over_mtls(hub: Hub, agents: dict[str, Prometheus]) -> None:
    agent = agents["valid"]

    def arrived() -> Optional[list[dict[str, Any]]]:
        agent.assert_running()
        return hub.client.query(f'up{{cluster="{EDGE}",lab_case="valid"}}') or None

    series = wait_for(f'up{{cluster="{EDGE}"}} at the hub', arrived, timeout=SERIES_TIMEOUT)
    assert series[0]["metric"]["job"] == "agent"
    assert series[0]["value"][1] == "1"


def _failed_sends(agent: Prometheus) -> Optional[float]:
    agent.assert_running()
    total = sum(
        float(line.rsplit(" ", 1)[1])
        for line in agent.metrics().splitlines()
        if line.startswith(("prometheus_remote_storage_samples_retried_total", "prometheus_remote_storage_samples_failed_total"))
    )
    return total or None


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_hub_rejects_bad_client_credentials(
    hub: Hub, agents: dict[str, Prometheus], material: dict[str, Any], case: str, tmp_path: Path
) -> None:
    # The hub refuses the credentials outright...
    direct = HubClient(hub.process.address, hub.server_name, material[case], tmp_path)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        direct.get("/-/ready")
    # ...and the agent using them gets nothing through.
    agent = agents[case]
    wait_for(f"{agent.name} to report failed remote-write sends", lambda: _failed_sends(agent), timeout=REJECTION_TIMEOUT)
    wait_for(f"{agent.name} to log the hub's TLS alert", lambda: True if "remote error: tls:" in agent.log() else None, timeout=10)
    wait_for(
        f"the hub to log the {case} handshake failure",
        lambda: True if REJECTED[case] in hub.process.log() else None,
        timeout=5,
    )
    assert hub.client.query(f'{{lab_case="{case}"}}') == []
