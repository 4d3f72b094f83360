"""Isolation lab: what an edge identity can and cannot do at the hub's front door.

Debian nginx runs the front door the program renders (tests/lab/front_door.py: the preview's
allow-list and trust bundle, nginx.conf from the same routes), with the certificates the program
issues (real PEMs from the offline preview). The EU hub (two edges: the Mimir tier) forwards each
signal to a recording upstream standing in for Mimir's distributors, Tempo and Loki, which shows
the tenant header the backend would get; the US hub (the Prometheus tier) forwards to a real
Prometheus, a backend that would answer every read path it is given.
"""

from __future__ import annotations

import datetime as dt
import socket
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml
from cryptography import x509

from components import identity, pki
from components.edge_sizing import for_settings
from components.front_door import config_data
from components.front_door_config import TENANTS_FILE, TRUST_BUNDLE_FILE, tenants_map
from components.hub_plan import HubPlan
from components.prometheus_tls import to_yaml
from components.settings import EdgeSettings, Tier
from components.values import hub_front_door
from components.values.common import TENANT_HEADER
from labkit.agent_config import agent_config
from review import engine
from review.fleet_review import preview_fleet
from tests import fixture_fleet
from tests.lab import front_door, mtls, recorder
from tests.lab.front_door import Door
from tests.lab.mtls import Credentials, HubClient
from tests.lab.processes import Launcher, Process, free_port, wait_for

pytestmark = pytest.mark.lab

EU_EDGES = ("edge-eu", "edge-eu-north")
FORGER, VICTIM = EU_EDGES
WRITE_PATHS = {route.signal: route.paths for route in hub_front_door.routes(HubPlan.of(front_door.hub_settings(fixture_fleet.load("hub"))))}
"""The EU hub's write paths per signal (Mimir tier)."""
READ_PATHS = [
    # Prometheus
    ("GET", "/api/v1/query?query=up"), ("POST", "/api/v1/query"), ("GET", "/api/v1/query_range?query=up&start=0&end=1&step=1"),
    ("GET", "/api/v1/series?match[]=up"), ("GET", "/api/v1/labels"), ("GET", "/api/v1/label/cluster/values"),
    ("GET", "/federate?match[]=up"), ("POST", "/api/v1/read"), ("GET", "/api/v1/targets"), ("GET", "/api/v1/status/config"),
    ("POST", "/api/v1/admin/tsdb/snapshot"), ("POST", "/api/v1/admin/tsdb/delete_series?match[]=up"), ("POST", "/-/reload"),
    ("GET", "/metrics"), ("GET", "/-/ready"), ("GET", "/graph"),
    # Mimir
    ("GET", "/prometheus/api/v1/query?query=up"), ("GET", "/prometheus/api/v1/series?match[]=up"),
    ("GET", "/api/v1/user_stats"), ("GET", "/distributor/all_user_stats"), ("GET", "/ingester/ring"), ("GET", "/config"),
    ("GET", "/runtime_config"), ("GET", "/prometheus/config/v1/rules"), ("POST", "/compactor/delete_tenant"),
    # Loki
    ("GET", "/loki/api/v1/query_range?query=%7Bjob%3D%22x%22%7D"), ("GET", "/loki/api/v1/labels"),
    ("GET", "/loki/api/v1/tail?query=%7Bjob%3D%22x%22%7D"), ("POST", "/loki/api/v1/delete?query=%7Bjob%3D%22x%22%7D"),
    # Tempo
    ("GET", "/api/traces/0123456789abcdef"), ("GET", "/api/search"), ("GET", "/api/v2/search/tags"),
    # A write path read, or dressed up as one.
    ("GET", "/api/v1/push"), ("GET", "/api/v1/write"), ("GET", "/v1/traces"), ("GET", "/loki/api/v1/push"),
    ("POST", "/api/v1/push/../../api/v1/query"), ("POST", "/api/v1/push%2F..%2F..%2Fapi%2Fv1%2Fquery"),
    ("POST", "/api/v1/write/../query"),
]
RECORD_TIMEOUT = 30  # seconds for a real agent's first batches to pass the door


# --- material ------------------------------------------------------------------------------------


@dataclass
class Recorder:
    process: Process
    address: str
    path: Path

    def requests(self) -> list[dict[str, Any]]:
        return recorder.read(self.path)


def _start_recorder(launcher: Launcher, name: str) -> Recorder:
    port = free_port()
    path = launcher.workdir / f"{name}.jsonl"
    script = str(Path(recorder.__file__))
    process = launcher.spawn(name, sys.executable, script, str(port), str(path))
    address = f"127.0.0.1:{port}"

    def listening() -> Optional[bool]:
        process.assert_running()
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_for(f"{name} to listen", listening, timeout=10)
    return Recorder(process, address, path)


def _signed(ca_pem: str, ca_key_pem: str, subject: x509.Name, names: list[x509.GeneralName], uses: list[str]) -> Credentials:
    """A certificate the hub's CA key signs, valid now."""
    now = dt.datetime.now(dt.timezone.utc)
    return mtls.signed_by_ca(ca_pem, ca_key_pem, subject, names, uses, now - dt.timedelta(hours=1), now + dt.timedelta(days=1))


@dataclass
class EuLab:
    hub: engine.PreviewResult
    door: Door
    upstreams: dict[str, Recorder]
    identities: dict[str, Credentials]
    server_name: str

    def client(self, who: str, signal: str, directory: Path) -> HubClient:
        return HubClient(self.door.address(signal), self.server_name, self.identities[who], directory / who / signal)


@pytest.fixture(scope="module")
def eu(module_launcher: Launcher, fleet: dict[str, engine.PreviewResult]) -> EuLab:
    hub = fleet["hub"]
    settings = front_door.hub_settings(hub.config)
    assert settings.tier is Tier.MIMIR
    upstreams = {signal: _start_recorder(module_launcher, f"upstream-{signal}") for signal in WRITE_PATHS}
    door = front_door.start(module_launcher, hub, {s: r.address for s, r in upstreams.items()})
    edges = {edge: mtls.edge_credentials(fleet[edge]) for edge in EU_EDGES}
    ca = edges[FORGER].ca
    ca_key = mtls.component_state(hub, pki.PKI_TYPE, "tls:index/privateKey:PrivateKey", "-ca-1-key")["privateKeyPem"]
    edge_cert = x509.load_pem_x509_certificate(edges[FORGER].cert.encode())  # type: ignore[union-attr]
    edge_names = list(edge_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    server = mtls.server_secret(hub)
    reader = f"{settings.cluster}-reader"
    identities = {
        **edges,
        # edge-eu's own subject and URI, signed by the hub's CA, but no extended key usage at all.
        "no-eku": _signed(ca, ca_key, edge_cert.subject, edge_names, ["digital_signature"]),
        # The hub's ingest server certificate: server authentication only.
        "server-only": Credentials(ca, server[pki.TLS_CERT], server[pki.TLS_KEY]),
        # A hub-internal reader identity, from the same CA with client-auth usage.
        "reader": _signed(
            ca, ca_key,
            x509.Name.from_rfc4514_string(f"CN={reader},OU=gdpr,O={identity.ORGANIZATION}"),
            [x509.UniformResourceIdentifier(identity.edge_uri(settings.regime.value, reader))],
            pki.CLIENT_USES,
        ),
    }
    server_name = hub.outputs["remoteWriteUrl"].split("/")[2]
    return EuLab(hub, door, upstreams, identities, server_name)


def _tenants(upstream: Recorder, path: str) -> list[list[str]]:
    """The tenant header values of every request `upstream` received on `path`, one list per request."""
    return [
        [v for k, v in r["headers"] if k == TENANT_HEADER.lower()]
        for r in upstream.requests()
        if r["path"].split("?")[0] == path
    ]


def _new_requests(upstream: Recorder, since: int) -> list[dict[str, Any]]:
    return upstream.requests()[since:]


# --- per signal: the tenant is the certificate ----------------------------------------------------


def _tenant_is_the_certificate(eu: EuLab, signal: str, tmp_path: Path) -> None:
    upstream = eu.upstreams[signal]
    for path in WRITE_PATHS[signal]:
        for edge in EU_EDGES:
            other = VICTIM if edge == FORGER else FORGER
            before = len(_tenants(upstream, path))
            status, _ = eu.client(edge, signal, tmp_path).request("POST", path, b"payload", [(TENANT_HEADER, other)])
            assert status == 200, (signal, path, edge)
            assert _tenants(upstream, path)[before:] == [[edge]], f"{edge} on {path} must reach the backend as {edge}"
            no_header = eu.client(edge, signal, tmp_path).request("POST", path, b"payload")
            assert no_header[0] == 200 and _tenants(upstream, path)[-1] == [edge]


def test_metrics_tenant_comes_from_the_certificate(eu: EuLab, tmp_path: Path) -> None:
    _tenant_is_the_certificate(eu, "metrics", tmp_path)


def test_logs_tenant_comes_from_the_certificate(eu: EuLab, tmp_path: Path) -> None:
    _tenant_is_the_certificate(eu, "logs", tmp_path)


def test_traces_tenant_comes_from_the_certificate(eu: EuLab, tmp_path: Path) -> None:
    _tenant_is_the_certificate(eu, "traces", tmp_path)


# --- forge: an edge writing as another -------------------------------------------------------------


FORGED_HEADERS = [
    [(TENANT_HEADER, VICTIM)],
    [(TENANT_HEADER.lower(), VICTIM)],
    [(TENANT_HEADER, FORGER), (TENANT_HEADER, VICTIM)],
    [(TENANT_HEADER, f"{VICTIM}|{FORGER}")],
    [("X-Forwarded-Client-Cert", f"URI=obsfleet://gdpr/{VICTIM}"), (TENANT_HEADER, VICTIM)],
]


def test_forged_tenant_headers_are_replaced_on_every_signal(eu: EuLab, tmp_path: Path) -> None:
    for signal, paths in WRITE_PATHS.items():
        upstream = eu.upstreams[signal]
        for path in paths:
            for headers in FORGED_HEADERS:
                before = len(_tenants(upstream, path))
                status, _ = eu.client(FORGER, signal, tmp_path).request("POST", path, b"forged", headers)
                assert status == 200
                assert _tenants(upstream, path)[before:] == [[FORGER]], (signal, path, headers)


def test_forging_agent_is_stored_under_its_own_tenant(eu: EuLab, module_launcher: Launcher, tmp_path: Path) -> None:
    """A real agent with edge-eu's certificate, configured as edge-eu-north (external label
    `cluster` and tenant header): every batch reaches the metrics backend as tenant edge-eu."""
    settings = fixture_fleet.load(FORGER).settings
    assert isinstance(settings, EdgeSettings)
    forged = settings.model_copy(update={"cluster": VICTIM, "scrape_interval_seconds": 5})
    sizing = for_settings(forged)
    port = free_port()
    files = eu.identities[FORGER].files(tmp_path / "forger-tls")
    config = agent_config(forged, sizing, eu.hub.outputs["remoteWriteUrl"], files, self_target=f"127.0.0.1:{port}",
                          address=eu.door.address("metrics"))
    config["remote_write"][0]["queue_config"].update(batch_send_deadline="1s")
    assert config["global"]["external_labels"]["cluster"] == VICTIM
    assert config["remote_write"][0]["headers"] == {TENANT_HEADER: VICTIM}
    (module_launcher.workdir / "forger.yml").write_text(to_yaml(config))
    upstream = eu.upstreams["metrics"]
    before = len(upstream.requests())
    agent = module_launcher.start("forger", "--enable-feature=agent", "--config.file=forger.yml",
                                  "--storage.agent.path=forger-data", port=port)
    try:
        def batches() -> Optional[list[dict[str, Any]]]:
            agent.assert_running()
            sent = [r for r in _new_requests(upstream, before) if r["path"] == "/api/v1/push"]
            return sent if len(sent) >= 2 else None

        sent = wait_for("the forging agent's batches at the backend", batches, RECORD_TIMEOUT)
    finally:
        agent.stop()
    for request in sent:
        assert [v for k, v in request["headers"] if k == TENANT_HEADER.lower()] == [FORGER]
        assert request["bytes"] > 0


# --- read: an edge identity reads nothing ----------------------------------------------------------


def test_edge_identity_cannot_read_any_path(eu: EuLab, tmp_path: Path) -> None:
    for signal in WRITE_PATHS:
        upstream = eu.upstreams[signal]
        before = len(upstream.requests())
        client = eu.client(FORGER, signal, tmp_path)
        for method, path in READ_PATHS:
            status, _ = client.request(method, path, b"x" if method == "POST" else b"")
            assert status == 403, (signal, method, path, status)
        assert _new_requests(upstream, before) == [], f"a read reached the {signal} backend"


@pytest.fixture(scope="module")
def us(module_launcher: Launcher, fleet: dict[str, engine.PreviewResult]) -> mtls.Hub:
    """The Prometheus tier: a real Prometheus behind the US hub's front door."""
    return mtls.start(module_launcher, fleet["hub-us"])


def test_edge_identity_cannot_read_a_real_prometheus(
    us: mtls.Hub, fleet: dict[str, engine.PreviewResult], tmp_path: Path
) -> None:
    edge = HubClient(us.address, us.server_name, mtls.edge_credentials(fleet["edge-us-west"]), tmp_path)
    assert edge.request("POST", "/api/v1/write")[0] != 403, "the edge's write path is open"
    for method, path in READ_PATHS:
        if path.startswith(("/api/v1/query?", "/api/v1/labels", "/federate")):
            # The receiver itself would answer: the refusal is the front door's.
            with urllib.request.urlopen(f"http://{us.process.address}{path}", timeout=5) as direct:
                assert direct.status == 200
        status, _ = edge.request(method, path, b"x" if method == "POST" else b"")
        assert status == 403, (method, path, status)


# --- usage: only edge certificates with client-auth usage write -----------------------------------


@pytest.mark.parametrize(
    ("who", "verify"),
    [("no-eku", 'verify="SUCCESS"'), ("server-only", 'verify="FAILED:unsuitable certificate purpose"'), ("reader", 'verify="SUCCESS"')],
)
def test_usage_other_identities_of_the_hub_ca_cannot_write(eu: EuLab, tmp_path: Path, who: str, verify: str) -> None:
    for signal, paths in WRITE_PATHS.items():
        upstream = eu.upstreams[signal]
        before = len(upstream.requests())
        for path in paths:
            status, _ = eu.client(who, signal, tmp_path).request("POST", path, b"payload", [(TENANT_HEADER, FORGER)])
            assert status == 403, (who, signal, path)
        assert _new_requests(upstream, before) == [], f"{who} reached the {signal} backend"
    # Why: a TLS-valid certificate outside the allow-list, or one TLS refuses for its purpose.
    refused = [line for line in eu.door.process.log().splitlines() if 'tenant="" ' in line and " 403 " in line]
    assert any(verify in line for line in refused), f"no refusal with {verify} in the front door's log"


# --- revocation: an edge removed from the hub's list ------------------------------------------------


def test_revoked_edge_is_refused_after_the_hub_update(
    eu: EuLab, module_launcher: Launcher, tmp_path: Path
) -> None:
    victim = eu.client(VICTIM, "metrics", tmp_path / "before")
    assert victim.request("POST", "/api/v1/push", b"payload")[0] == 200, "admitted while listed"
    # The hub stack with the edge removed from obsfleet:edges (tier pinned, as README advises).
    stacks_dir = tmp_path / "stacks"
    stacks_dir.mkdir()
    for path in fixture_fleet.STACKS_DIR.glob("Pulumi*.yaml"):
        (stacks_dir / path.name).write_text(path.read_text())
    document = yaml.safe_load((stacks_dir / "Pulumi.hub.yaml").read_text())
    config = document["config"]
    config["obsfleet:edges"] = [e for e in config["obsfleet:edges"] if e["name"] != VICTIM]
    config["obsfleet:scale"] = {"tier": "mimir"}
    (stacks_dir / "Pulumi.hub.yaml").write_text(yaml.safe_dump(document))
    updated = {r.stack: r for r in preview_fleet(["hub"], stacks_dir=stacks_dir)}["hub"]
    kept = [line.split()[1].rstrip(";") for line in front_door.preview_files(updated)[TENANTS_FILE].splitlines()]
    assert kept == [FORGER]
    # What that `pulumi up` renders over the certificates already in the hub's state (a preview
    # re-generates keys; a real update keeps the remaining edges' certificates).
    settings = front_door.hub_settings(updated.config)
    issued = {edge: [_issued_cert(eu.hub, edge)] for edge in kept}
    files = config_data(hub_front_door.routes(HubPlan.of(settings)), issued, front_door.preview_files(eu.hub)[TRUST_BUNDLE_FILE])
    door = front_door.start(module_launcher, eu.hub, {"metrics": eu.upstreams["metrics"].address},
                            name="front-door-updated", tenants=files[TENANTS_FILE])
    upstream = eu.upstreams["metrics"]
    before = len(_tenants(upstream, "/api/v1/push"))
    revoked = HubClient(door.address("metrics"), eu.server_name, eu.identities[VICTIM], tmp_path / "after")
    assert revoked.request("POST", "/api/v1/push", b"payload")[0] == 403
    kept_client = HubClient(door.address("metrics"), eu.server_name, eu.identities[FORGER], tmp_path / "kept")
    assert kept_client.request("POST", "/api/v1/push", b"payload")[0] == 200
    assert _tenants(upstream, "/api/v1/push")[before:] == [[FORGER]]
    # Refused by the allow-list: its certificate still verifies against the CA and has not expired.
    assert any('tenant="" ' in line and 'verify="SUCCESS"' in line and " 403 " in line for line in door.process.log().splitlines())


def _issued_cert(hub: engine.PreviewResult, edge: str) -> str:
    [cert] = [
        r["outputs"]["certPem"]
        for r in hub.resources
        if r["type"] == "tls:index/locallySignedCert:LocallySignedCert" and r["urn"].endswith(f"-edge-{edge}-1-cert")
    ]
    return cert


# --- read: request targets as an edge can send them -------------------------------------------------


def _raw(method: str, target: str, server_name: str, *, version: str = "HTTP/1.1", body: bytes = b"x",
         headers: tuple[str, ...] = ()) -> bytes:
    """One request as the bytes on the wire; `Connection: close` so the server ends the exchange."""
    lines = [f"{method} {target} {version}", *([f"Host: {server_name}"] if version == "HTTP/1.1" else []), *headers]
    if not any(h.lower().startswith("transfer-encoding:") for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join([*lines, "Connection: close", "", ""])).encode() + body


def _onto(path: str) -> dict[str, str]:
    """Targets nginx normalises onto the write path `path`, each saying something else to a
    backend that resolved the target itself."""
    return {
        "dot segments from a read path": f"/api/v1/query/../../..{path}",
        "an encoded '?' in a read path": f"/api/v1/query%3F/../../..{path}",
        "encoded slashes": f"/api/v1/query%2F..%2F..%2F..{path}",
        "a fragment naming a read path": f"{path}#/../../../api/v1/query",
        "a query string": f"{path}?query=up&extra_label=cluster%3D{VICTIM}&{TENANT_HEADER}={VICTIM}",
        "a doubled slash": f"/{path}",
        "a dot segment": f"/.{path}",
        "the absolute form": f"http://query.invalid{path}",
    }


def test_read_targets_reach_a_backend_only_as_the_write_path_matched(eu: EuLab, tmp_path: Path) -> None:
    for signal, paths in WRITE_PATHS.items():
        upstream = eu.upstreams[signal]
        client = eu.client(FORGER, signal, tmp_path)
        for path in paths:
            sent = {case: _raw("POST", target, eu.server_name) for case, target in _onto(path).items()}
            sent["HTTP/1.0 without Host"] = _raw("POST", path, eu.server_name, version="HTTP/1.0")
            sent["a chunked body"] = _raw("POST", path, eu.server_name, body=b"1\r\nx\r\n0\r\n\r\n",
                                          headers=("Transfer-Encoding: chunked",))
            for case, raw in sent.items():
                before = len(upstream.requests())
                assert client.send(raw).statuses == [200], (signal, path, case)
                forwarded = _new_requests(upstream, before)
                assert [(r["method"], r["path"]) for r in forwarded] == [("POST", path)], (signal, path, case)
                assert _tenants(upstream, path)[-1] == [FORGER]


def test_read_targets_off_the_write_paths_are_refused_before_any_backend(eu: EuLab, tmp_path: Path) -> None:
    for signal, paths in WRITE_PATHS.items():
        upstream = eu.upstreams[signal]
        before = len(upstream.requests())
        client = eu.client(FORGER, signal, tmp_path)
        for path in paths:
            refused = {
                "a dot segment onto a read path": _raw("POST", f"{path}/../../../api/v1/query", eu.server_name),
                "encoded dots": _raw("POST", f"{path}/%2e%2e/%2E%2E/%2e%2e/api/v1/query", eu.server_name),
                "a path parameter": _raw("POST", f"{path};/../../../api/v1/query", eu.server_name),
                "a doubled slash before a read path": _raw("POST", "//api/v1/query", eu.server_name),
                "another case": _raw("POST", path.upper(), eu.server_name),
                "a trailing slash": _raw("POST", f"{path}/", eu.server_name),
                "the absolute form of a read path": _raw("POST", "http://query.invalid/api/v1/query", eu.server_name),
                "HEAD": _raw("HEAD", path, eu.server_name, body=b""),
                "OPTIONS": _raw("OPTIONS", path, eu.server_name, body=b""),
                "OPTIONS *": _raw("OPTIONS", "*", eu.server_name, body=b""),
                "PUT": _raw("PUT", path, eu.server_name),
                "HTTP/1.0 GET of a read path": _raw("GET", "/api/v1/query?query=up", eu.server_name, version="HTTP/1.0", body=b""),
                "a NUL byte": _raw("POST", f"{path}%00/../../../api/v1/query", eu.server_name),
                "both Content-Length and chunked": _raw("POST", path, eu.server_name, body=b"0\r\n\r\n",
                                                        headers=("Transfer-Encoding: chunked", "Content-Length: 5")),
                "a read pipelined behind a write": _raw("POST", path, eu.server_name, body=b"")[: -len(b"Connection: close\r\n\r\n")]
                + b"\r\n" + _raw("GET", "/api/v1/query?query=up", eu.server_name, body=b""),
            }
            for case, raw in refused.items():
                statuses = client.send(raw).statuses
                if case == "a read pipelined behind a write":
                    assert statuses == [200, 403], (signal, path, case, statuses)
                else:
                    assert statuses and statuses[0] in (400, 403, 405), (signal, path, case, statuses)
        written = [r["path"] for r in _new_requests(upstream, before)]
        assert set(written) <= set(paths), f"{signal}: a refused target reached the backend: {written}"


def test_read_a_body_over_the_backends_limit_is_refused_before_it(eu: EuLab, tmp_path: Path) -> None:
    route = {r.signal: r for r in hub_front_door.routes(HubPlan.of(front_door.hub_settings(eu.hub.config)))}["logs"]
    limit = int(route.max_body.rstrip("M")) * 1024 * 1024
    upstream = eu.upstreams["logs"]
    before = len(upstream.requests())
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(limit // len(chunk) + 1)) + b"0\r\n\r\n"
    raw = _raw("POST", route.paths[0], eu.server_name, body=body, headers=("Transfer-Encoding: chunked",))
    assert eu.client(FORGER, "logs", tmp_path).send(raw).statuses == [413]
    assert _new_requests(upstream, before) == []


# --- forge: headers an edge adds ---------------------------------------------------------------------


PROTOCOL_HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "User-Agent": "Prometheus/2.42.0",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
"""What remote write, Loki push and OTLP/HTTP clients send to have a body decoded: passed as sent."""
HOSTILE_HEADERS = [
    ("X-Mimir-SkipLabelNameValidation", "true"),
    ("X-Forwarded-For", "10.0.0.1"),
    ("X-Real-IP", "10.0.0.1"),
    ("Forwarded", "for=10.0.0.1;proto=https"),
    ("X-Forwarded-Client-Cert", f"URI=obsfleet://gdpr/{VICTIM}"),
    ("X-Client-Cert", "-----BEGIN CERTIFICATE-----"),
    ("Authorization", "Basic ZWRnZTplZGdl"),
    ("Cookie", "grafana_session=x"),
    ("X-Grafana-Org-Id", "2"),
    ("Connection", f"close, {TENANT_HEADER}"),
    (TENANT_HEADER, f"{VICTIM}|{FORGER}"),
    ("x-scope-orgid", VICTIM),
    ("X-Scope-OrgId", VICTIM),
]
BACKEND_HEADERS = {"host", "connection", "content-length", TENANT_HEADER.lower(), *(h.lower() for h in PROTOCOL_HEADERS)}
"""Every header a backend may see from the front door."""


def test_forge_no_edge_header_but_the_write_protocols_reaches_a_backend(eu: EuLab, tmp_path: Path) -> None:
    for signal, paths in WRITE_PATHS.items():
        upstream = eu.upstreams[signal]
        for path in paths:
            before = len(upstream.requests())
            sent = [*PROTOCOL_HEADERS.items(), *HOSTILE_HEADERS]
            status, _ = eu.client(FORGER, signal, tmp_path).request("POST", path, b"payload", sent)
            assert status == 200, (signal, path)
            (request,) = _new_requests(upstream, before)
            received = dict(request["headers"])
            assert len(request["headers"]) == len(received) and set(received) <= BACKEND_HEADERS, (signal, path, received)
            assert received[TENANT_HEADER.lower()] == FORGER
            assert {k: received.get(k.lower()) for k in PROTOCOL_HEADERS} == PROTOCOL_HEADERS, (signal, path)
            assert request["bytes"] == len(b"payload")


# --- revocation: a session cached before the hub update -------------------------------------------


def test_revoked_edge_resuming_its_tls_session_is_refused(eu: EuLab, module_launcher: Launcher, tmp_path: Path) -> None:
    door = front_door.start(module_launcher, eu.hub, {"metrics": eu.upstreams["metrics"].address}, name="front-door-resumed")
    clients = {who: HubClient(door.address("metrics"), eu.server_name, eu.identities[who], tmp_path / who) for who in EU_EDGES}
    push = _raw("POST", "/api/v1/push", eu.server_name)
    sessions = {}
    for who, client in clients.items():
        first = client.send(push)
        again = client.send(push, first.session)
        # Resumption is in play, and a resumed session still names the certificate it began with.
        assert (first.statuses, again.statuses, again.resumed) == ([200], [200], True), who
        sessions[who] = again.session
    # The hub update that removes the victim: the allow-list it renders for the edge that stays.
    door.reload(tenants_map({FORGER: [_issued_cert(eu.hub, FORGER)]}))
    upstream = eu.upstreams["metrics"]
    before = len(upstream.requests())
    assert clients[VICTIM].send(push, sessions[VICTIM]).statuses == [403]
    assert clients[VICTIM].send(push).statuses == [403]
    assert clients[FORGER].send(push, sessions[FORGER]).statuses == [200]
    assert [[v for k, v in r["headers"] if k == TENANT_HEADER.lower()] for r in _new_requests(upstream, before)] == [[FORGER]]
