"""FleetPki and EdgeCredentials: real certificates (under mocks) checked with cryptography and OpenSSL.

The component tests declare the PKI of the example hubs' settings directly; the program tests
preview the real stacks (hub.py and edge.py wire the components in).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any, Optional, Sequence

import pulumi
import pytest
import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from components import pki
from components.endpoints import ingest_endpoints
from components.pki import EdgeCredentials, EdgeCredentialsArgs, FleetPki, FleetPkiArgs, MissingEdgeCredentials
from components.settings import HubSettings, PkiSettings
from review import engine, mock_tls
from review.engine import SECRET, Recording, run_program
from review.errors import BadInput
from review.fleet_review import preview_fleet
from tests import fixture_fleet

SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
SECRET_TYPE = "kubernetes:core/v1:Secret"
CERT_TYPE = "tls:index/locallySignedCert:LocallySignedCert"


def _hub(name: str) -> HubSettings:
    settings = fixture_fleet.load(name).settings
    assert isinstance(settings, HubSettings)
    return settings


def _declare(settings: HubSettings, edges: Optional[Sequence[str]] = None, pki_settings: Optional[PkiSettings] = None) -> Recording:
    """The PKI a hub with `settings` declares, plus an EdgeCredentials per edge reading its outputs."""
    names = list(edges) if edges is not None else [e.name for e in settings.edges]

    def program() -> None:
        fleet_pki = FleetPki(
            f"{settings.cluster}-pki",
            FleetPkiArgs(
                regime=settings.regime,
                cluster=settings.cluster,
                hosts=ingest_endpoints(settings).hosts,
                edges=names,
                settings=pki_settings or settings.pki,
                namespace=settings.kubernetes.namespace,
            ),
        )
        pulumi.export("caCert", fleet_pki.ca_cert)
        pulumi.export("edgeCredentials", fleet_pki.edge_credentials)
        for edge in names:
            EdgeCredentials(
                f"{edge}-credentials",
                EdgeCredentialsArgs(
                    cluster=edge,
                    hub_stack=f"acme/obsfleet/{settings.cluster}",
                    ca_cert=fleet_pki.ca_cert,
                    edge_credentials=fleet_pki.edge_credentials,
                    namespace="observability",
                ),
            )

    return run_program(program, stack="pki")


@pytest.fixture(scope="module")
def hub() -> Recording:
    return _declare(_hub("hub"))


@pytest.fixture(scope="module")
def hub_us() -> Recording:
    return _declare(_hub("hub-us"))


def _cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _named(recording: Recording, suffix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(export record, real state) of the one resource whose name ends with `suffix`."""
    (urn,) = [u for u in recording.state if u.endswith(suffix)]
    (record,) = [r for r in recording.resources if r["urn"] == urn]
    return record, recording.state[urn]


def _verifies(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError):  # ValueError: issued by another name
        return False
    return True


def _openssl_verify(tmp_path: Path, ca_pem: str, cert_pem: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "ca.pem").write_text(ca_pem)
    (tmp_path / "cert.pem").write_text(cert_pem)
    return subprocess.run(
        # At the moment the mock certificates start (fixed, whatever the day the tests run).
        ["openssl", "verify", "-attime", str(int(mock_tls.START.timestamp())), "-CAfile", str(tmp_path / "ca.pem"),
         *args, str(tmp_path / "cert.pem")],
        capture_output=True, text=True,
    )


# --- the CA -----------------------------------------------------------------------------------


def test_ca_is_p256_and_may_only_sign(hub: Recording) -> None:
    ca = _cert(hub.outputs["caCert"])
    assert ca.public_key().curve.name == "secp256r1"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.key_cert_sign, usage.crl_sign, usage.digital_signature, usage.key_encipherment) == (True, False, False, False)
    with pytest.raises(x509.ExtensionNotFound):
        ca.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "hub-eu fleet CA"
    assert ca.not_valid_after_utc - ca.not_valid_before_utc == dt.timedelta(days=_hub("hub").pki.ca_validity_days)


# --- edge client certificates -----------------------------------------------------------------


@pytest.mark.parametrize("stack", ["hub", "hub-us"])
def test_every_edge_cert_is_a_client_identity_from_its_hubs_ca(
    stack: str, hub: Recording, hub_us: Recording, tmp_path: Path
) -> None:
    recording = {"hub": hub, "hub-us": hub_us}[stack]
    settings = _hub(stack)
    ca = _cert(recording.outputs["caCert"])
    credentials = recording.outputs["edgeCredentials"]
    assert sorted(credentials) == sorted(e.name for e in settings.edges)
    for edge, pems in credentials.items():
        cert = _cert(pems["cert"])
        key = serialization.load_pem_private_key(pems["key"].encode(), None)
        assert cert.public_key().public_bytes(*SPKI) == key.public_key().public_bytes(*SPKI)
        assert _verifies(cert, ca)
        assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [edge]
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert list(names) == [x509.UniformResourceIdentifier(f"obsfleet://{settings.regime.value}/{edge}")]
        assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and not (usage.key_cert_sign or usage.key_encipherment)
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert _openssl_verify(tmp_path, recording.outputs["caCert"], pems["cert"], "-purpose", "sslclient").returncode == 0
        assert _openssl_verify(tmp_path, recording.outputs["caCert"], pems["cert"], "-purpose", "sslserver").returncode != 0


def test_another_jurisdictions_certs_do_not_verify_against_this_ca(hub: Recording, hub_us: Recording, tmp_path: Path) -> None:
    us_cert = hub_us.outputs["edgeCredentials"]["edge-us-west"]["cert"]
    assert not _verifies(_cert(us_cert), _cert(hub.outputs["caCert"]))
    done = _openssl_verify(tmp_path, hub.outputs["caCert"], us_cert)
    assert done.returncode != 0 and "unable to get local issuer certificate" in done.stdout + done.stderr


def test_certs_carry_validity_and_early_renewal_from_settings() -> None:
    recording = _declare(_hub("hub"), ["edge-eu"], PkiSettings(certValidityDays=20, earlyRenewalDays=5))
    for suffix in ("-server-cert", "-edge-edge-eu-cert"):
        record, state = _named(recording, suffix)
        assert record["inputs"]["validityPeriodHours"] == 20 * 24
        assert record["inputs"]["earlyRenewalHours"] == 5 * 24
        cert = _cert(state["certPem"])
        assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=20)
        assert state["readyForRenewal"] is False


# --- the hub's server certificate -------------------------------------------------------------


def test_server_secret_holds_a_cert_for_every_ingest_hostname(hub: Recording, tmp_path: Path) -> None:
    record, state = _named(hub, "-pki-server-secret")
    assert record["inputs"]["type"] == "kubernetes.io/tls"
    assert record["inputs"]["metadata"] == {"name": pki.SERVER_SECRET, "namespace": "observability"}
    data = state["stringData"]
    assert set(data) == {"tls.crt", "tls.key", "ca.crt"} and data["ca.crt"] == hub.outputs["caCert"]
    cert = _cert(data["tls.crt"])
    key = serialization.load_pem_private_key(data["tls.key"].encode(), None)
    assert cert.public_key().public_bytes(*SPKI) == key.public_key().public_bytes(*SPKI)
    hosts = ingest_endpoints(_hub("hub")).hosts
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == hosts
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not (usage.key_encipherment or usage.key_cert_sign), "an ECDSA key only signs"
    for host in hosts:
        done = _openssl_verify(tmp_path, data["ca.crt"], data["tls.crt"], "-purpose", "sslserver", "-verify_hostname", host)
        assert done.returncode == 0, done.stdout + done.stderr
    assert _openssl_verify(tmp_path, data["ca.crt"], data["tls.crt"], "-verify_hostname", "grafana.obs.eu.example.com").returncode != 0


def test_ca_secret_holds_only_the_ca_certificate(hub: Recording) -> None:
    record, state = _named(hub, "-pki-ca-secret")
    assert record["inputs"]["metadata"]["name"] == pki.CA_SECRET
    assert state["stringData"] == {"ca.crt": hub.outputs["caCert"]}


# --- secrets ----------------------------------------------------------------------------------


def test_private_keys_exist_only_as_secrets(hub: Recording) -> None:
    assert "PRIVATE KEY" in json.dumps(hub.state), "the real state holds keys: the next check is not vacuous"
    assert "PRIVATE KEY" not in json.dumps(hub.resources)
    assert "edgeCredentials" in hub.secret_outputs and "caCert" not in hub.secret_outputs
    for suffix in ("-pki-server-secret", "::edge-eu-credentials-secret"):
        record, _ = _named(hub, suffix)
        assert record["inputs"]["stringData"] == SECRET


# --- onboarding ------------------------------------------------------------------------------


def _symbolic(recording: Recording) -> dict[str, Any]:
    """Each resource's inputs, a PEM computed by another resource replaced by a reference to it.

    That is how the engine diffs a resource whose dependencies are not replaced: a CA kept as it
    is keeps its PEM, while every mock run generates fresh key material.
    """
    origin: dict[str, str] = {}
    for record in recording.resources:
        for key, value in record.get("outputs", {}).items():
            if isinstance(value, str) and "-----BEGIN " in value and value != record.get("inputs", {}).get(key):
                origin[value] = f"<{record['urn']}.{key}>"

    def replace(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: replace(v) for k, v in value.items()}
        if isinstance(value, list):
            return [replace(v) for v in value]
        return origin.get(value, value) if isinstance(value, str) else value

    return {r["urn"]: replace(r.get("inputs", {})) for r in recording.resources}


def _pki_urns(symbolic: dict[str, Any]) -> dict[str, Any]:
    return {urn: inputs for urn, inputs in symbolic.items() if "obsfleet:index:FleetPki" in urn}


def test_adding_an_edge_adds_exactly_its_certificate_resources() -> None:
    settings = _hub("hub")
    edges = [e.name for e in settings.edges]
    before = _pki_urns(_symbolic(_declare(settings, edges)))
    # First in the list: names must not depend on positions.
    after = _pki_urns(_symbolic(_declare(settings, ["edge-eu-south"] + edges)))
    added = sorted(urn.rsplit("::", 1)[1] for urn in set(after) - set(before))
    assert added == ["hub-eu-pki-edge-edge-eu-south-cert", "hub-eu-pki-edge-edge-eu-south-csr", "hub-eu-pki-edge-edge-eu-south-key"]
    assert set(before) <= set(after)
    assert {urn: after[urn] for urn in before} == before


# --- EdgeCredentials --------------------------------------------------------------------------


def test_edge_secret_holds_its_own_credentials_and_the_ca(hub: Recording) -> None:
    record, state = _named(hub, "::edge-eu-credentials-secret")
    assert record["inputs"]["type"] == "kubernetes.io/tls"
    assert record["inputs"]["metadata"] == {"name": pki.EDGE_SECRET, "namespace": "observability"}
    mine = hub.outputs["edgeCredentials"]["edge-eu"]
    assert state["stringData"] == {"tls.crt": mine["cert"], "tls.key": mine["key"], "ca.crt": hub.outputs["caCert"]}


def test_edge_missing_from_the_hub_fails_naming_the_fix() -> None:
    def program() -> None:
        EdgeCredentials(
            "edge-x-credentials",
            EdgeCredentialsArgs(
                cluster="edge-x",
                hub_stack="acme/obsfleet/hub",
                ca_cert="CA",
                edge_credentials=pulumi.Output.secret({"edge-eu": {"cert": "C", "key": "K"}}),
                namespace="observability",
            ),
        )

    with pytest.raises(MissingEdgeCredentials) as raised:
        run_program(program, stack="edge-x")
    assert str(raised.value) == "hub has no certificate for cluster 'edge-x': add it to obsfleet:edges of stack hub"
    assert isinstance(raised.value, pulumi.RunError)


# --- the program ------------------------------------------------------------------------------


def test_program_hubs_export_their_ca_and_every_edges_credentials(fleet: dict[str, engine.PreviewResult]) -> None:
    for name in ("hub", "hub-us", "hub-ap"):
        result = fleet[name]
        assert "edgeCredentials" in result.secret_outputs, f"{name}: hub.py must export FleetPki's outputs"
        ca = _cert(result.outputs["caCert"])
        credentials = result.outputs["edgeCredentials"]
        assert sorted(credentials) == sorted(e.name for e in _hub(name).edges)
        assert all(_verifies(_cert(pems["cert"]), ca) for pems in credentials.values())


def test_program_exports_hold_no_private_key(fleet: dict[str, engine.PreviewResult]) -> None:
    assert any("PRIVATE KEY" in json.dumps(result.state) for result in fleet.values())
    for name, result in fleet.items():
        assert "PRIVATE KEY" not in json.dumps(result.export()), name
        assert "PRIVATE KEY" not in json.dumps(result.masked_outputs), name


def _previewed_pki(stacks_dir: Path) -> dict[str, Any]:
    (result,) = preview_fleet(["hub"], stacks_dir=stacks_dir)
    return _pki_urns(_symbolic(Recording(result.resources, result.outputs, result.secret_outputs)))


def test_program_adding_an_edge_to_the_hub_config_changes_no_other_pki_resource(stacks_dir: Path) -> None:
    before = _previewed_pki(stacks_dir)
    path = stacks_dir / "Pulumi.hub.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["obsfleet:edges"].insert(0, {"name": "edge-eu-south", "region": "eu-south-1"})
    path.write_text(yaml.safe_dump(document))
    after = _previewed_pki(stacks_dir)
    added = sorted(urn.rsplit("::", 1)[1].rsplit("-", 1)[1] for urn in set(after) - set(before))
    assert added == ["cert", "csr", "key"] and all("edge-eu-south" in urn for urn in set(after) - set(before))
    assert {urn: after[urn] for urn in before} == before


def test_program_edge_not_onboarded_by_its_hub_fails_with_the_fix(stacks_dir: Path) -> None:
    document = yaml.safe_load((stacks_dir / "Pulumi.edge-eu.yaml").read_text())
    document["config"]["obsfleet:cluster"] = "edge-x"
    (stacks_dir / "Pulumi.edge-x.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(BadInput) as raised:
        preview_fleet(["edge-x"], stacks_dir=stacks_dir)
    assert "hub has no certificate for cluster 'edge-x': add it to obsfleet:edges of stack hub" in str(raised.value)


def test_front_door_interface_is_each_edges_certificate_and_the_trust_bundle() -> None:
    settings = _hub("hub")
    seen: dict[str, Any] = {}

    def program() -> None:
        fleet_pki = FleetPki(
            "hub-eu-pki",
            FleetPkiArgs(
                regime=settings.regime, cluster=settings.cluster, hosts=ingest_endpoints(settings).hosts,
                edges=["edge-eu", "edge-eu-north"], settings=settings.pki, namespace="observability",
            ),
        )
        seen["edges"] = sorted(fleet_pki.edge_certificates)
        pulumi.export("bundle", fleet_pki.trust_bundle)
        for edge, pem in fleet_pki.edge_certificates.items():
            pulumi.export(edge, pem)

    recording = run_program(program, stack="pki")
    assert seen["edges"] == ["edge-eu", "edge-eu-north"]
    assert not recording.secret_outputs
    bundle = x509.load_pem_x509_certificates(recording.outputs["bundle"].encode())
    for edge in ("edge-eu", "edge-eu-north"):
        assert any(_verifies(_cert(recording.outputs[edge]), ca) for ca in bundle)
