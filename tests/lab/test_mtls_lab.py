"""mTLS lab: a real hub Prometheus behind the hub's front door, and real agents, with the
certificates the program declares.

The hub (`hub-us`, the Prometheus tier) runs the remote-write receiver on plain loopback HTTP
behind its front door, Debian nginx with the rendered config (client certificates required,
verified against the hub's trust bundle, mapped to a tenant by the allow-list); agents scrape
themselves and remote-write through it. The certificates come from the offline preview of the
real stacks: the hub's server Secret, the `edge-us-west` stack's client Secret (its own key, the
certificate its hub signed from its request), the EU hub's credentials for a foreign CA, and an expired
certificate signed with the hub's CA key. nginx completes the TLS handshake and answers a
missing or failed certificate with 403, logging why.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional

import pytest
from cryptography import x509

from components import pki
from components.prometheus_tls import remote_write, to_yaml
from review import engine
from tests.lab import mtls
from tests.lab.mtls import Credentials, Hub, HubClient
from tests.lab.processes import Launcher, Prometheus, wait_for

pytestmark = pytest.mark.lab

HUB = "hub-us"
EDGE = "edge-us-west"
SERIES_TIMEOUT = 60  # seconds for the valid agent's series to reach the hub
REJECTION_TIMEOUT = 30  # seconds for a rejected agent to report failed sends


@pytest.fixture(scope="module")
def material(fleet: dict[str, engine.PreviewResult]) -> dict[str, Any]:
    """Everything the lab needs, from the previews of the hub, its edge and the EU hub."""
    hub, edge, foreign = fleet[HUB], fleet[EDGE], fleet["hub"]
    valid = mtls.edge_credentials(edge)
    ca_key = mtls.component_state(hub, pki.PKI_TYPE, "tls:index/privateKey:PrivateKey", "-ca-1-key")["privateKeyPem"]
    foreign_edge = mtls.edge_credentials(fleet["edge-eu"])
    return {
        "valid": valid,
        "no-cert": Credentials(valid.ca, None, None),
        "foreign-ca": Credentials(valid.ca, foreign_edge.cert, foreign_edge.key),
        "expired": _expired(valid.ca, ca_key, valid.cert),
    }


def _expired(ca_pem: str, ca_key_pem: str, edge_cert_pem: str) -> Credentials:
    """The edge's identity, signed by the hub's own CA, but valid only until yesterday."""
    edge = x509.load_pem_x509_certificate(edge_cert_pem.encode())
    names = list(edge.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    now = dt.datetime.now(dt.timezone.utc)
    return mtls.signed_by_ca(ca_pem, ca_key_pem, edge.subject, names, pki.CLIENT_USES,
                             now - dt.timedelta(days=2), now - dt.timedelta(days=1))


@pytest.fixture(scope="module")
def hub(module_launcher: Launcher, fleet: dict[str, engine.PreviewResult], material: dict[str, Any]) -> Hub:
    return mtls.start(module_launcher, fleet[HUB])


# Each bad credential, and the reason the front door logs for refusing it.
REJECTED = {
    "no-cert": 'verify="NONE"',
    "foreign-ca": 'verify="FAILED:unable to verify the first certificate"',
    "expired": 'verify="FAILED:certificate has expired"',
}


def _start_agent(launcher: Launcher, hub: Hub, case: str, credentials: Credentials) -> Prometheus:
    """An agent labelled `lab_case=<case>` scraping itself and remote-writing to the hub with `credentials`."""
    workdir = launcher.workdir
    files = credentials.files(workdir / f"{case}-tls")
    entry = remote_write(hub.hub_url, files, address=hub.address)
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
        return hub.process.query(f'up{{cluster="{EDGE}",lab_case="valid"}}') or None

    series = wait_for(f'up{{cluster="{EDGE}"}} at the hub', arrived, timeout=SERIES_TIMEOUT)
    assert series[0]["metric"]["job"] == "agent"
    assert series[0]["value"][1] == "1"


def _failed_sends(agent: Prometheus) -> Optional[float]:
    agent.assert_running()
    metrics = agent.parsed_metrics()
    total = sum(
        metrics.sum(name)
        for name in ("prometheus_remote_storage_samples_retried_total", "prometheus_remote_storage_samples_failed_total")
    )
    return total or None


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_hub_rejects_bad_client_credentials(
    hub: Hub, agents: dict[str, Prometheus], material: dict[str, Any], case: str, tmp_path: Path
) -> None:
    # The front door refuses the credentials outright...
    direct = HubClient(hub.address, hub.server_name, material[case], tmp_path)
    assert direct.request("POST", "/api/v1/write")[0] == 403
    # ...and the agent using them gets nothing through.
    agent = agents[case]
    wait_for(f"{agent.name} to report failed remote-write sends", lambda: _failed_sends(agent), timeout=REJECTION_TIMEOUT)
    wait_for(f"{agent.name} to log the refusal", lambda: True if "403 Forbidden" in agent.log() else None, timeout=10)
    wait_for(
        f"the front door to log the {case} refusal",
        lambda: True if REJECTED[case] in hub.door.process.log() else None,
        timeout=5,
    )
    assert hub.process.query(f'{{lab_case="{case}"}}') == []
