"""components/prometheus_tls.py: the hub's web config and an agent's remote_write, checked by promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.prometheus_tls import TlsFiles, hub_web_config, remote_write, to_yaml
from components.pki import FleetPki, FleetPkiArgs
from components.regions import Regime
from components.settings import PkiSettings
from review.engine import run_program
from tests.lab.processes import PROMTOOL, require_binary

HUB_URL = "https://metrics.obs.eu.example.com/api/v1/write"
FILES = TlsFiles("/tls/ca.crt", "/tls/tls.crt", "/tls/tls.key")


@pytest.fixture(scope="module")
def server_pems() -> dict[str, str]:
    """tls.crt / tls.key / ca.crt of the hub's server Secret, as FleetPki declares them."""

    def program() -> None:
        FleetPki(
            "pki",
            FleetPkiArgs(
                regime=Regime.GDPR, cluster="hub-eu", hosts=["metrics.obs.eu.example.com"], edges=["edge-eu"],
                settings=PkiSettings(), namespace="observability",
            ),
        )

    recording = run_program(program, stack="hub")
    (data,) = [s["stringData"] for urn, s in recording.state.items() if urn.endswith("::pki-server-secret")]
    other_key = next(s["privateKeyPem"] for urn, s in recording.state.items() if urn.endswith("::pki-edge-edge-eu-key"))
    return {**data, "other.key": other_key}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_binary(PROMTOOL), "check", *args], capture_output=True, text=True, timeout=60)


def _files(directory: Path, pems: dict[str, str], key: str = "tls.key") -> TlsFiles:
    for name, text in pems.items():
        (directory / name).write_text(text)
    return TlsFiles(str(directory / "ca.crt"), str(directory / "tls.crt"), str(directory / key))


def test_hub_web_config_requires_and_verifies_client_certificates() -> None:
    assert hub_web_config(FILES) == {
        "tls_server_config": {
            "cert_file": "/tls/tls.crt",
            "key_file": "/tls/tls.key",
            "client_ca_file": "/tls/ca.crt",
            "client_auth_type": "RequireAndVerifyClientCert",
            "min_version": "TLS12",
        }
    }
    with pytest.raises(ValueError, match="server certificate and key"):
        hub_web_config(TlsFiles("/tls/ca.crt"))


def test_hub_web_config_with_the_server_secret_passes_promtool(server_pems: dict[str, str], tmp_path: Path) -> None:
    web = tmp_path / "web.yml"
    web.write_text(to_yaml(hub_web_config(_files(tmp_path, server_pems))))
    done = _promtool("web-config", str(web))
    assert done.returncode == 0, done.stdout + done.stderr
    # promtool really loads the pair: the server certificate with another key is refused.
    web.write_text(to_yaml(hub_web_config(_files(tmp_path, server_pems, key="other.key"))))
    refused = _promtool("web-config", str(web))
    assert refused.returncode != 0 and "private key does not match public key" in refused.stdout + refused.stderr


def test_remote_write_verifies_the_hub_by_its_hostname_wherever_it_connects() -> None:
    assert remote_write(HUB_URL, FILES) == {
        "url": HUB_URL,
        "tls_config": {
            "ca_file": "/tls/ca.crt",
            "server_name": "metrics.obs.eu.example.com",
            "cert_file": "/tls/tls.crt",
            "key_file": "/tls/tls.key",
        },
    }
    local = remote_write(HUB_URL, FILES, address="127.0.0.1:9443", headers={"X-Scope-OrgID": "edge-eu"})
    assert local["url"] == "https://127.0.0.1:9443/api/v1/write"
    assert local["tls_config"]["server_name"] == "metrics.obs.eu.example.com"
    assert local["headers"] == {"X-Scope-OrgID": "edge-eu"}


def test_client_without_certificate_presents_none() -> None:
    assert remote_write(HUB_URL, TlsFiles("/tls/ca.crt"))["tls_config"] == {
        "ca_file": "/tls/ca.crt",
        "server_name": "metrics.obs.eu.example.com",
    }


@pytest.mark.parametrize("url", ["http://metrics.obs.eu.example.com/api/v1/write", "https:///api/v1/write"])
def test_remote_write_to_the_hub_is_https_only(url: str) -> None:
    with pytest.raises(ValueError, match="must be https://"):
        remote_write(url, FILES)


def test_agent_config_with_the_remote_write_passes_promtool(tmp_path: Path) -> None:
    config = tmp_path / "agent.yml"
    config.write_text(
        to_yaml(
            {
                "global": {"external_labels": {"cluster": "edge-eu"}},
                "scrape_configs": [{"job_name": "agent", "static_configs": [{"targets": ["127.0.0.1:9090"]}]}],
                "remote_write": [remote_write(HUB_URL, FILES, address="127.0.0.1:9443")],
            }
        )
    )
    done = _promtool("config", "--agent", str(config))
    assert done.returncode == 0, done.stdout + done.stderr


def test_to_yaml_keeps_key_order() -> None:
    assert to_yaml({"b": 1, "a": {"d": 2, "c": 3}}) == "b: 1\na:\n  d: 2\n  c: 3\n"
