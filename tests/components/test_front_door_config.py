"""components/front_door_config.py and front_door.py: the rendered nginx front door, checked by the real nginx."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from components.front_door import POD_LAYOUT, checksum, config_data
from components.front_door_config import (
    CONFIG_FILE,
    SERVER_CERT_FILE,
    SERVER_KEY_FILE,
    TENANTS_FILE,
    TRUST_BUNDLE_FILE,
    Layout,
    Route,
    fingerprint,
    nginx_conf,
    tenants_map,
)
from components.pki import EdgeIdentity, EdgeIdentityArgs, EdgeRequest, FleetPki, FleetPkiArgs
from components.regions import Regime
from components.settings import PkiSettings
from review.engine import run_program
from tests.lab.processes import NGINX, require_binary

ROUTES = (
    Route("metrics", 8443, ("/api/v1/push", "/otlp/v1/metrics"), "127.0.0.1:8080", "540M"),
    Route("logs", 8445, ("/otlp/v1/logs",), "127.0.0.1:3100", "4M"),
)


@pytest.fixture(scope="module")
def pems() -> dict[str, str]:
    """The hub's server certificate and key, the CA and two edge certificates, as FleetPki declares them."""

    def program() -> None:
        requests = {
            edge: EdgeRequest(f"acme/obsfleet/{edge}", EdgeIdentity(f"{edge}-identity", EdgeIdentityArgs(Regime.GDPR, edge)).certificate_request)
            for edge in ("edge-a", "edge-b")
        }
        FleetPki(
            "pki",
            FleetPkiArgs(
                regime=Regime.GDPR, cluster="hub-eu", hosts=["metrics.obs.eu.example.com"], requests=requests,
                settings=PkiSettings(), namespace="observability",
            ),
        )

    state = run_program(program, stack="hub").state
    (server,) = [s["stringData"] for urn, s in state.items() if urn.endswith("::pki-server-secret")]
    edges = {
        edge: next(s["certPem"] for urn, s in state.items() if urn.endswith(f"::pki-edge-{edge}-1-cert"))
        for edge in ("edge-a", "edge-b")
    }
    other_key = next(s["privateKeyPem"] for urn, s in state.items() if urn.endswith("::edge-a-identity-key"))
    return {**server, **edges, "other.key": other_key}


def test_fingerprint_is_nginxs_sha1_of_the_der(pems: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text(pems["edge-a"])
    out = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "c.pem"), "-noout", "-fingerprint", "-sha1"],
                         capture_output=True, text=True, check=True).stdout
    assert fingerprint(pems["edge-a"]) == out.strip().split("=", 1)[1].replace(":", "").lower()


def test_allow_list_names_each_edge_by_its_certificate_only(pems: dict[str, str]) -> None:
    lines = tenants_map({"edge-b": [pems["edge-b"]], "edge-a": [pems["edge-a"]]}).splitlines()
    assert sorted(lines) == lines and len(lines) == 2
    assert {line.split()[1] for line in lines} == {"edge-a;", "edge-b;"}
    assert tenants_map({}) == ""
    # During a CA change-over an edge holds two certificates: either one writes as that edge.
    both = tenants_map({"edge-a": [pems["edge-a"], pems["edge-b"]]}).splitlines()
    assert sorted(both) == sorted([f"{fingerprint(pems['edge-a'])} edge-a;", f"{fingerprint(pems['edge-b'])} edge-a;"])


def test_every_route_forwards_only_its_write_paths_with_the_tenant() -> None:
    conf = nginx_conf(ROUTES, POD_LAYOUT)
    assert conf.count("ssl_verify_client on;") == len(ROUTES)
    assert conf.count("proxy_pass http://") == conf.count("proxy_set_header X-Scope-OrgID $obsfleet_tenant;") == 3
    # The backend gets the path matched, without the query, and no header of the edge's but those listed.
    for path in ("/api/v1/push", "/otlp/v1/metrics", "/otlp/v1/logs"):
        assert f"location = {path} {{\n      limit_except POST {{ deny all; }}\n      rewrite ^ {path}? break;\n" in conf
    assert conf.count("proxy_pass_request_headers off;") == 3
    assert conf.count("limit_except POST { deny all; }") == 3
    assert conf.count("location / {\n      return 403;") == len(ROUTES)
    assert "map $ssl_client_fingerprint $obsfleet_tenant {\n    default \"\";" in conf
    assert "client_max_body_size 540M;" in conf and "client_max_body_size 4M;" in conf


def test_routes_must_not_share_a_port() -> None:
    with pytest.raises(ValueError, match="share a port"):
        nginx_conf((ROUTES[0], ROUTES[0]), POD_LAYOUT)
    with pytest.raises(ValueError, match="at least one route"):
        nginx_conf((), POD_LAYOUT)


def test_checksum_changes_with_the_allow_list_the_bundle_and_the_server_certificate(pems: dict[str, str]) -> None:
    both = config_data(ROUTES, {"edge-a": [pems["edge-a"]], "edge-b": [pems["edge-b"]]}, pems["ca.crt"])
    one = config_data(ROUTES, {"edge-a": [pems["edge-a"]]}, pems["ca.crt"])
    rotated = config_data(ROUTES, {"edge-a": [pems["edge-a"]]}, pems["ca.crt"] + pems["ca.crt"])
    sums = {checksum(both, "s"), checksum(one, "s"), checksum(rotated, "s"), checksum(one, "t")}
    assert len(sums) == 4


def _write(directory: Path, pems: dict[str, str], key: str = "tls.key") -> Layout:
    files = {
        TENANTS_FILE: tenants_map({"edge-a": [pems["edge-a"]]}),
        TRUST_BUNDLE_FILE: pems["ca.crt"],
        SERVER_CERT_FILE: pems["tls.crt"],
        SERVER_KEY_FILE: pems[key],
    }
    for name, text in files.items():
        (directory / name).write_text(text)
    layout = Layout(str(directory), str(directory), str(directory), "127.0.0.1")
    (directory / CONFIG_FILE).write_text(nginx_conf(ROUTES, layout))
    return layout


def _nginx_test(directory: Path) -> subprocess.CompletedProcess[str]:
    argv = [require_binary(NGINX, "nginx-light"), "-t", "-p", str(directory), "-c", str(directory / CONFIG_FILE), "-e", "stderr"]
    if os.geteuid() == 0:
        argv += ["-g", "user root;"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_rendered_config_passes_nginx_with_the_server_secret(pems: dict[str, str], tmp_path: Path) -> None:
    _write(tmp_path, pems)
    done = _nginx_test(tmp_path)
    assert done.returncode == 0, done.stderr
    # nginx really loads the pair: the server certificate with another key is refused.
    _write(tmp_path, pems, key="other.key")
    refused = _nginx_test(tmp_path)
    assert refused.returncode != 0 and "key values mismatch" in refused.stderr
