"""vmagent lab: the real Debian vmagent with the flags the program renders for `agent: vmagent`.

The same checks as the Prometheus agent's labs, against the same real hub Prometheus (remote-write
receiver behind the hub's front door, Debian nginx with the rendered config, client certificates
required), for `edge-us-west` and its Prometheus-tier hub `hub-us`:
- mTLS: vmagent ships with the edge's certificate from the preview; without a certificate, with a
  foreign CA's, or with an expired one signed by the hub's CA, the front door refuses it (403) and
  nothing of it arrives.
- outage: the hub is stopped for a minute and restarted on its TSDB; every sample of every series
  scraped in a window spanning the outage is at the hub afterwards, the hub rejected nothing and
  vmagent dropped nothing. The hub has no out-of-order window: anything replayed out of order would
  be refused and counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from components.prometheus_tls import TlsFiles
from labkit.exporter import Exporter
from labkit.metrics import VMAGENT_LOSS_COUNTERS
from review import engine
from tests.lab import mtls
from tests.lab.agent_lab import LABELS, METRICS, SCRAPE_INTERVAL_SECONDS, lab_settings
from tests.lab.mtls import EDGE, HUB, REJECTED, Hub
from tests.lab.outage import (
    Outcome,
    Timing,
    assert_every_sample_arrived,
    assert_nothing_lost,
    assert_window_spans_the_outage,
    through_outage,
)
from tests.lab.processes import Launcher, Prometheus, launching
from tests.lab.vmagent_agent import start_vmagent

pytestmark = pytest.mark.lab

TIMING = Timing(interval=SCRAPE_INTERVAL_SECONDS, catch_up_timeout=90.0)
"""vmagent's retry backoff doubles up to a minute while the hub is down: the first retry after the
restart may come that late."""
SEND_ERRORS = "vmagent_remotewrite_errors_total"
RETRIES = "vmagent_remotewrite_retries_count_total"
"""A block answered with an error status (403 refused, 502 while the hub is down) is retried; it is
not an error of the connection."""


# --- mTLS ------------------------------------------------------------------------------------------


CLIENT_CERT_FLAGS = ("-remoteWrite.tlsCertFile=", "-remoteWrite.tlsKeyFile=")


@pytest.fixture(scope="module")
def vmagents(
    mtls_hub: Hub, module_launcher: Launcher, fleet: dict[str, engine.PreviewResult], material: dict[str, Any]
) -> dict[str, Prometheus]:
    """One vmagent per case, labelled `lab_case=<case>`. The program never renders a client
    without a certificate: for `no-cert` its certificate flags are left out."""
    started = {}
    for case in ["valid", *REJECTED]:
        files = material[case].files(module_launcher.workdir / f"vmagent-{case}-tls")
        no_cert = files.cert_file is None
        started[case] = start_vmagent(
            module_launcher,
            f"vmagent-{case}",
            fleet[EDGE],
            mtls_hub,
            TlsFiles(files.ca_file, "unused", "unused") if no_cert else files,
            [],
            (f"-remoteWrite.label=lab_case={case}",),
            without=CLIENT_CERT_FLAGS if no_cert else (),
        )
    return started


def test_vmagent_ships_to_the_hub_over_mtls(mtls_hub: Hub, vmagents: dict[str, Prometheus]) -> None:
    series = mtls.wait_for_series(mtls_hub, vmagents["valid"])
    assert series[0]["metric"]["job"] == "vmagent"
    # The edge's identity labels ride on every sample (`-remoteWrite.label`).
    assert {k: series[0]["metric"][k] for k in ("cluster", "region", "regime")} == {
        "cluster": EDGE,
        "region": lab_settings().region,
        "regime": lab_settings().regime.value,
    }


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_hub_rejects_vmagent_with_bad_client_credentials(
    mtls_hub: Hub, vmagents: dict[str, Prometheus], material: dict[str, Any], case: str, tmp_path: Path
) -> None:
    mtls.assert_refused(mtls_hub, vmagents[case], case, material[case], tmp_path, (SEND_ERRORS, RETRIES), ": 403;")


# --- outage ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outage_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """Its own directory: the outage's hub keeps its TSDB apart from the mTLS cases' hub."""
    yield from launching(tmp_path_factory.mktemp("vmagent-outage"))


@pytest.fixture(scope="module")
def outcome(outage_launcher: Launcher, fleet: dict[str, engine.PreviewResult]) -> Outcome:
    edge = fleet[EDGE]
    credentials = mtls.edge_credentials(edge)
    hub = mtls.start(outage_launcher, fleet[HUB])
    with Exporter(METRICS, LABELS) as exporter:
        files = credentials.files(outage_launcher.workdir / "vmagent-tls")
        agent = start_vmagent(outage_launcher, "vmagent", edge, hub, files, [exporter.address])
        selector = Exporter.series_selector(cluster=EDGE)
        return through_outage(
            outage_launcher, hub, exporter, agent, selector, TIMING, (*VMAGENT_LOSS_COUNTERS, RETRIES)
        )


def test_vmagent_felt_the_outage(outcome: Outcome) -> None:
    # The front door answers 502 while the hub is down: vmagent retries those blocks.
    assert_window_spans_the_outage(outcome, TIMING, RETRIES)


def test_vmagent_delivers_every_sample_scraped_during_the_outage(outcome: Outcome) -> None:
    assert_every_sample_arrived(outcome, METRICS * LABELS)


def test_vmagent_dropped_nothing_and_the_hub_rejected_nothing(outcome: Outcome) -> None:
    assert_nothing_lost(outcome, VMAGENT_LOSS_COUNTERS)
