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

from pathlib import Path
from typing import Any

import pytest

from components.prometheus_tls import remote_write, to_yaml
from tests.lab import mtls
from tests.lab.mtls import EDGE, REJECTED, Credentials, Hub
from tests.lab.processes import Launcher, Prometheus

pytestmark = pytest.mark.lab


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
def agents(mtls_hub: Hub, module_launcher: Launcher, material: dict[str, Any]) -> dict[str, Prometheus]:
    """One agent per case, started together: each spends seconds replaying its WAL before sending."""
    started = {case: _start_agent(module_launcher, mtls_hub, case, material[case]) for case in ["valid", *REJECTED]}
    for agent in started.values():
        agent.wait_ready_http()
    return started


def test_hub_receives_the_edges_series_over_mtls(mtls_hub: Hub, agents: dict[str, Prometheus]) -> None:
    series = mtls.wait_for_series(mtls_hub, agents["valid"])
    assert series[0]["metric"]["job"] == "agent"
    assert series[0]["value"][1] == "1"


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_hub_rejects_bad_client_credentials(
    mtls_hub: Hub, agents: dict[str, Prometheus], material: dict[str, Any], case: str, tmp_path: Path
) -> None:
    mtls.assert_refused(
        mtls_hub, agents[case], case, material[case], tmp_path,
        ("prometheus_remote_storage_samples_retried_total", "prometheus_remote_storage_samples_failed_total"),
        "403 Forbidden",
    )
