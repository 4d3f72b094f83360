"""Lab fixtures: every Prometheus a test starts is stopped by its fixture's finalizer, and a failing
test gets the tail of every process log attached to its report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterator

import pytest

from cryptography import x509

from components import pki
from review import engine, mock_tls
from tests import fixture_fleet
from tests.lab import mtls
from tests.lab.mtls import Credentials
from tests.lab.processes import LOG_TAIL_LINES, Launcher, launching

@pytest.fixture(scope="session")
def fleet() -> dict[str, engine.PreviewResult]:
    """The fixture fleet with certificates that start now: real TLS peers check them against the
    wall clock, not the review's fixed mock moment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mock_tls, "START", dt.datetime.now(dt.timezone.utc))
        return fixture_fleet.preview()


@pytest.fixture(scope="module")
def material(fleet: dict[str, engine.PreviewResult]) -> dict[str, Any]:
    """The mTLS labs' client credentials, valid and bad, from the previews of `mtls.HUB`, its edge
    and an edge of another hub."""
    hub, edge = fleet[mtls.HUB], fleet[mtls.EDGE]
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
def mtls_hub(module_launcher: Launcher, fleet: dict[str, engine.PreviewResult]) -> mtls.Hub:
    """`mtls.HUB` behind its front door, shared by a module's tests."""
    return mtls.start(module_launcher, fleet[mtls.HUB])


@pytest.fixture(scope="module")
def module_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """For processes shared by a module's tests (e.g. the hub)."""
    yield from launching(tmp_path_factory.mktemp("lab"))


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    """For processes of one test (e.g. an agent)."""
    yield from launching(tmp_path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for process in Launcher.launched:
            tail = "\n".join(process.log().splitlines()[-LOG_TAIL_LINES:])
            report.sections.append((f"{process.name} log ({process.log_path})", tail))
