"""components/prometheus_tls.py: an agent's remote_write to the hub, checked by promtool."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.prometheus_tls import TlsFiles, remote_write, to_yaml
from tests.lab.processes import promtool_check

HUB_URL = "https://metrics.obs.eu.example.com/api/v1/write"
FILES = TlsFiles("/tls/ca.crt", "/tls/tls.crt", "/tls/tls.key")


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
    done = promtool_check("config", "--agent", str(config))
    assert done.returncode == 0, done.stdout + done.stderr


def test_to_yaml_keeps_key_order() -> None:
    assert to_yaml({"b": 1, "a": {"d": 2, "c": 3}}) == "b: 1\na:\n  d: 2\n  c: 3\n"
