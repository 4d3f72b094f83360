"""FleetPki and EdgeIdentity: real certificates (under mocks) checked with cryptography and OpenSSL.

The component tests declare an edge's identity, then the PKI of a hub reading its request, the
way the stacks do it in turn (mock keys are derived from resource names, so the key an edge
declares again is the key the hub signed for). The program tests preview the real stacks.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pytest
import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from components import identity, pki
from components.endpoints import ingest_endpoints
from components.hub_plan import HubPlan
from components.pki import EdgeIdentity, EdgeIdentityArgs, EdgeRequest, EdgeTls, FleetPki, FleetPkiArgs
from components.regions import Regime
from components.settings import HubSettings, PkiSettings
from review import engine, mock_tls
from review.engine import SECRET, Recording, run_program
from review.fleet_review import preview_fleet
from tests import fixture_fleet
from tests.components.forged_requests import (
    EXTENSION_REQUEST,
    MS_EXTENSION_REQUEST,
    URI_NAME,
    Forged,
    alt_names,
    attribute,
    extensions,
    name,
)

SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
SECRET_TYPE = "kubernetes:core/v1:Secret"
CERT_TYPE = "tls:index/locallySignedCert:LocallySignedCert"
EU_EDGES = ["edge-eu", "edge-eu-north"]


def _hub(name: str) -> HubSettings:
    settings = fixture_fleet.load(name).settings
    assert isinstance(settings, HubSettings)
    return settings


def _requests(regime: Regime, edges: Sequence[str], common_names: Optional[Mapping[str, str]] = None) -> Recording:
    """Each edge's first run: its EdgeIdentity, exporting its request (`<edge>` output) and public key."""

    def program() -> None:
        for edge in edges:
            cn = (common_names or {}).get(edge, edge)
            mine = EdgeIdentity(f"{edge}-identity", EdgeIdentityArgs(regime=regime, cluster=cn))
            pulumi.export(edge, mine.certificate_request)
            pulumi.export(f"{edge}-public", mine.key.public_key_pem)

    return run_program(program, stack="edges")


def _declare(
    settings: HubSettings,
    edges: Optional[Sequence[str]] = None,
    pki_settings: Optional[PkiSettings] = None,
    requests: Optional[Mapping[str, Optional[str]]] = None,
) -> Recording:
    """The PKI a hub with `settings` declares for `edges`, signing the requests their identities made."""
    names = list(edges) if edges is not None else [e.name for e in settings.edges]
    made = requests if requests is not None else _requests(settings.regime, names).outputs

    def program() -> None:
        fleet_pki = FleetPki(
            f"{settings.cluster}-pki",
            FleetPkiArgs(
                regime=settings.regime,
                cluster=settings.cluster,
                hosts=ingest_endpoints(HubPlan.of(settings)).hosts,
                requests={edge: EdgeRequest(f"acme/obsfleet/{edge}", made.get(edge)) for edge in names},
                settings=pki_settings or settings.pki,
                namespace=settings.kubernetes.namespace,
            ),
        )
        pulumi.export("caCert", fleet_pki.trust_bundle)
        pulumi.export("edgeCertificates", pulumi.Output.all(**fleet_pki.edge_certificates))
        pulumi.export("accepted", pulumi.Output.all(**{e: pulumi.Output.all(*c) for e, c in fleet_pki.accepted_certificates.items()}))
        pulumi.export("cas", sorted(fleet_pki.cas))

    return run_program(program, stack="pki")


@pytest.fixture(scope="module")
def hub() -> Recording:
    return _declare(_hub("hub"))


@pytest.fixture(scope="module")
def hub_us() -> Recording:
    return _declare(_hub("hub-us"))


def _cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _bundle(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


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
    (ca,) = _bundle(hub.outputs["caCert"])
    assert ca.public_key().curve.name == "secp256r1"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.key_cert_sign, usage.crl_sign, usage.digital_signature, usage.key_encipherment) == (True, False, False, False)
    with pytest.raises(x509.ExtensionNotFound):
        ca.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "hub-eu fleet CA 1"
    assert ca.not_valid_after_utc - ca.not_valid_before_utc == dt.timedelta(days=_hub("hub").pki.ca_validity_days)


# --- edge client certificates -----------------------------------------------------------------


@pytest.mark.parametrize("stack", ["hub", "hub-us"])
def test_every_edge_cert_is_a_client_identity_for_the_edges_own_key(
    stack: str, hub: Recording, hub_us: Recording, tmp_path: Path
) -> None:
    recording = {"hub": hub, "hub-us": hub_us}[stack]
    settings = _hub(stack)
    (ca,) = _bundle(recording.outputs["caCert"])
    edges = [e.name for e in settings.edges]
    keys = _requests(settings.regime, edges).outputs
    certificates = recording.outputs["edgeCertificates"]
    assert sorted(certificates) == sorted(edges)
    for edge, pem in certificates.items():
        cert = _cert(pem)
        assert cert.public_key().public_bytes(*SPKI) == serialization.load_pem_public_key(keys[f"{edge}-public"].encode()).public_bytes(*SPKI)
        assert _verifies(cert, ca)
        assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [edge]
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert list(names) == [x509.UniformResourceIdentifier(f"obsfleet://{settings.regime.value}/{edge}")]
        assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and not (usage.key_cert_sign or usage.key_encipherment)
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert _openssl_verify(tmp_path, recording.outputs["caCert"], pem, "-purpose", "sslclient").returncode == 0
        assert _openssl_verify(tmp_path, recording.outputs["caCert"], pem, "-purpose", "sslserver").returncode != 0


def test_another_jurisdictions_certs_do_not_verify_against_this_ca(hub: Recording, hub_us: Recording, tmp_path: Path) -> None:
    us_cert = hub_us.outputs["edgeCertificates"]["edge-us-west"]
    assert not _verifies(_cert(us_cert), _bundle(hub.outputs["caCert"])[0])
    done = _openssl_verify(tmp_path, hub.outputs["caCert"], us_cert)
    assert done.returncode != 0 and "unable to get local issuer certificate" in done.stdout + done.stderr


def test_certs_carry_validity_and_early_renewal_from_settings() -> None:
    recording = _declare(_hub("hub"), ["edge-eu"], PkiSettings(certValidityDays=20, earlyRenewalDays=5))
    for suffix in ("-server-cert", "-edge-edge-eu-1-cert"):
        record, state = _named(recording, suffix)
        assert record["inputs"]["validityPeriodHours"] == 20 * 24
        assert record["inputs"]["earlyRenewalHours"] == 5 * 24
        cert = _cert(state["certPem"])
        assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=20)
        assert state["readyForRenewal"] is False


# --- what the hub signs -----------------------------------------------------------------------


def _request_for(regime: Regime, cn: str, *, uris: Optional[list[str]] = None, curve: str = "P256",
                 dns_names: Optional[list[str]] = None, ou: Optional[str] = None) -> str:
    """A request built like EdgeIdentity's, with one thing changed."""
    import pulumi_tls as tls

    def program() -> None:
        key = tls.PrivateKey("k", algorithm="ECDSA", ecdsa_curve=curve)
        subject = {**identity.subject(regime.value, cn), **({"organizational_unit": ou} if ou else {})}
        request = tls.CertRequest(
            "r", private_key_pem=key.private_key_pem, subject=tls.CertRequestSubjectArgs(**subject),
            uris=uris if uris is not None else [identity.edge_uri(regime.value, cn)], dns_names=dns_names or [],
        )
        pulumi.export("pem", request.cert_request_pem)

    return run_program(program, stack="forger").outputs["pem"]


@pytest.mark.parametrize("case, forged, message", [
    ("another cluster", dict(cn="edge-eu-north"),
     "edge edge-eu (stack acme/obsfleet/edge-eu): certificateRequest subject is "
     "'CN=edge-eu-north,OU=gdpr,O=obsfleet', expected 'CN=edge-eu,OU=gdpr,O=obsfleet'"),
    ("another regime", dict(cn="edge-eu", ou="ccpa"), "certificateRequest subject is 'CN=edge-eu,OU=ccpa,O=obsfleet'"),
    ("another URI", dict(cn="edge-eu", uris=["obsfleet://gdpr/edge-eu-north"]),
     "certificateRequest names obsfleet://gdpr/edge-eu-north, expected exactly the URI obsfleet://gdpr/edge-eu"),
    ("an extra name", dict(cn="edge-eu", dns_names=["metrics.obs.eu.example.com"]),
     "certificateRequest names metrics.obs.eu.example.com, obsfleet://gdpr/edge-eu, expected exactly"),
    ("no name", dict(cn="edge-eu", uris=[]), "certificateRequest names none, expected exactly the URI obsfleet://gdpr/edge-eu"),
    ("a weaker key", dict(cn="edge-eu", curve="P224"), "certificateRequest key must be ECDSA P-256"),
])
def test_a_request_that_does_not_name_exactly_the_edge_is_refused(case: str, forged: dict[str, Any], message: str) -> None:
    pem = _request_for(Regime.GDPR, **forged)
    with pytest.raises(identity.RequestRefused) as refused:
        _declare(_hub("hub"), ["edge-eu"], requests={"edge-eu": pem})
    assert message in str(refused.value), case
    assert isinstance(refused.value, pulumi.RunError), "the engine shows the message without a traceback"


@pytest.mark.parametrize("pem, message", [
    (None, "edge edge-eu (stack acme/obsfleet/edge-eu) exports no certificateRequest: run `pulumi up` on that "
           "stack first (onboarding order: edge, hub, edge)"),
    ("not a request", "certificateRequest is not a PEM certificate request"),
])
def test_a_missing_or_unreadable_request_is_refused(pem: Optional[str], message: str) -> None:
    with pytest.raises(identity.RequestRefused, match=re.escape(message)):
        _declare(_hub("hub"), ["edge-eu"], requests={"edge-eu": pem})


def test_a_request_with_a_broken_signature_is_refused() -> None:
    good = x509.load_pem_x509_csr(_request_for(Regime.GDPR, "edge-eu").encode())
    der = bytearray(good.public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature
    broken = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(identity.RequestRefused, match="certificateRequest is not signed by its own key"):
        identity.check_request(broken, "gdpr", "edge-eu", "acme/obsfleet/edge-eu")


def test_the_hub_decides_usages_whatever_the_request_asks() -> None:
    recording = _declare(_hub("hub"), ["edge-eu"])
    cert = _cert(recording.outputs["edgeCertificates"]["edge-eu"])
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    record, _ = _named(recording, "-edge-edge-eu-1-cert")
    assert record["inputs"]["allowedUses"] == pki.CLIENT_USES


def test_the_hub_signs_exactly_the_request_it_checked() -> None:
    made = _requests(Regime.GDPR, ["edge-eu"]).outputs["edge-eu"]
    # What the signer is handed is the checked DER, re-encoded: never the output's own text.
    loose = "\n " + made.replace("\n", "\r\n") + "\n\n"
    record, _ = _named(_declare(_hub("hub"), ["edge-eu"], requests={"edge-eu": loose}), "-edge-edge-eu-1-cert")
    assert record["inputs"]["certRequestPem"] == made


def test_a_request_naming_another_edge_where_the_signer_reads_fails_the_hub_update() -> None:
    # Go's x509 (the signer) ignores Microsoft's extension request and reads the standard one: it
    # would certify edge-eu's key as edge-eu-north.
    forged = Forged(name("gdpr", "edge-eu"), [
        attribute(MS_EXTENSION_REQUEST, extensions(alt_names((URI_NAME, "obsfleet://gdpr/edge-eu")))),
        attribute(EXTENSION_REQUEST, extensions(alt_names((URI_NAME, "obsfleet://gdpr/edge-eu-north")))),
    ])
    with pytest.raises(identity.RequestRefused, match=r"^edge edge-eu \(stack acme/obsfleet/edge-eu\): certificateRequest carries"):
        _declare(_hub("hub"), ["edge-eu"], requests={"edge-eu": forged.pem()})


@pytest.mark.parametrize("output", [{"pem": "x"}, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "x" * 100_000])
def test_preview_refuses_a_hostile_edge_output_on_one_line(output: Any) -> None:
    """The review's preview of a hub whose edge stack exports `output` as its request: the error
    the CLI prints (exit 2), naming the hub's stack file, the edge, its stack and the output."""
    north = _requests(Regime.GDPR, ["edge-eu-north"]).outputs["edge-eu-north"]
    references = {
        "edge-eu": ({"certificateRequest": output, "cluster": "edge-eu-north", "hubStack": "hub-us"}, frozenset()),
        "edge-eu-north": ({"certificateRequest": north}, frozenset()),
    }
    with pytest.raises(engine.ProgramError) as refused:
        engine.preview(fixture_fleet.load("hub"), references)
    message = str(refused.value)
    assert message.startswith("Pulumi.hub.yaml: edge edge-eu (stack acme/obsfleet/edge-eu): certificateRequest "), message
    assert "\n" not in message and len(message) < 300


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
    hosts = ingest_endpoints(HubPlan.of(_hub("hub"))).hosts
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == hosts
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not (usage.key_encipherment or usage.key_cert_sign), "an ECDSA key only signs"
    for host in hosts:
        done = _openssl_verify(tmp_path, data["ca.crt"], data["tls.crt"], "-purpose", "sslserver", "-verify_hostname", host)
        assert done.returncode == 0, done.stdout + done.stderr
    assert _openssl_verify(tmp_path, data["ca.crt"], data["tls.crt"], "-verify_hostname", "grafana.obs.eu.example.com").returncode != 0


# --- secrets ----------------------------------------------------------------------------------


def test_private_keys_exist_only_in_their_own_stacks_secrets(hub: Recording) -> None:
    assert "PRIVATE KEY" in json.dumps(hub.state), "the real state holds keys: the next check is not vacuous"
    assert "PRIVATE KEY" not in json.dumps(hub.resources)
    assert not hub.secret_outputs and "PRIVATE KEY" not in json.dumps(hub.outputs)
    edge_keys = [u for u in hub.state if u.endswith("-key") and "identity" in u]
    assert not edge_keys, "the hub declares no key of an edge"
    record, _ = _named(hub, "-pki-server-secret")
    assert record["inputs"]["stringData"] == SECRET


# --- onboarding and revocation ---------------------------------------------------------------


def _symbolic(recording: Recording) -> dict[str, Any]:
    """Each resource's inputs, a PEM computed by another resource replaced by a reference to it.

    That is how the engine diffs a resource whose dependencies are not replaced.
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


def _names(urns: Any) -> list[str]:
    return sorted(urn.rsplit("::", 1)[1] for urn in urns)


def test_adding_an_edge_adds_exactly_its_certificate() -> None:
    settings = _hub("hub")
    before = _pki_urns(_symbolic(_declare(settings, EU_EDGES)))
    # First in the list: names must not depend on positions.
    after = _pki_urns(_symbolic(_declare(settings, ["edge-eu-south"] + EU_EDGES)))
    assert _names(set(after) - set(before)) == ["hub-eu-pki-edge-edge-eu-south-1-cert"]
    assert {urn: after[urn] for urn in before} == before


def test_removing_an_edge_removes_its_certificate_and_nothing_else() -> None:
    settings = _hub("hub")
    before = _declare(settings, EU_EDGES)
    after = _declare(settings, ["edge-eu"])
    assert sorted(after.outputs["edgeCertificates"]) == ["edge-eu"]
    assert sorted(after.outputs["accepted"]) == ["edge-eu"]
    old, new = _pki_urns(_symbolic(before)), _pki_urns(_symbolic(after))
    assert _names(set(old) - set(new)) == ["hub-eu-pki-edge-edge-eu-north-1-cert"]
    assert {urn: old[urn] for urn in new} == new, "every other certificate stays as it is"


def test_an_edge_not_in_the_hubs_list_gets_no_certificate() -> None:
    # A stranger hands in a well-formed request in its own name: the hub never reads it.
    recording = _declare(_hub("hub"), EU_EDGES, requests={
        **_requests(Regime.GDPR, EU_EDGES).outputs, "edge-x": _request_for(Regime.GDPR, "edge-x"),
    })
    assert sorted(recording.outputs["edgeCertificates"]) == EU_EDGES
    subjects = [_cert(s["certPem"]).subject for u, s in recording.state.items() if CERT_TYPE in u]
    assert all("edge-x" not in name.rfc4514_string() for name in subjects)


# --- CA rotation ------------------------------------------------------------------------------


def _phase(pki_settings: PkiSettings) -> Recording:
    return _declare(_hub("hub"), EU_EDGES, pki_settings)


@pytest.fixture(scope="module")
def rotation() -> dict[str, Recording]:
    """The three phases of replacing CA `1` with CA `2`."""
    return {
        "before": _phase(PkiSettings()),
        "change-over": _phase(PkiSettings(nextCa="2")),
        "after": _phase(PkiSettings(ca="2")),
    }


def _server(recording: Recording) -> x509.Certificate:
    return _cert(_named(recording, "-pki-server-secret")[1]["stringData"]["tls.crt"])


def test_rotation_before_one_ca_signs_everything(rotation: dict[str, Recording]) -> None:
    before = rotation["before"]
    (ca,) = _bundle(before.outputs["caCert"])
    assert before.outputs["cas"] == ["1"]
    assert _verifies(_server(before), ca)
    assert all(_verifies(_cert(pem), ca) for pem in before.outputs["edgeCertificates"].values())


def test_rotation_change_over_trusts_both_and_hands_edges_the_new_ca(rotation: dict[str, Recording], tmp_path: Path) -> None:
    before, during = rotation["before"], rotation["change-over"]
    old, new = _bundle(during.outputs["caCert"])
    assert old.public_key() == _bundle(before.outputs["caCert"])[0].public_key(), "the current CA stays as it is"
    assert during.outputs["cas"] == ["1", "2"]
    for edge in EU_EDGES:
        handed = during.outputs["edgeCertificates"][edge]
        assert _verifies(_cert(handed), new) and not _verifies(_cert(handed), old)
        # An edge that has not run since still presents its certificate from CA 1: still accepted.
        kept, also_handed = during.outputs["accepted"][edge]
        assert also_handed == handed and _verifies(_cert(kept), old)
        assert _cert(kept).public_key() == _cert(handed).public_key(), "both certify the edge's one key"
        for pem in (kept, handed):
            assert _openssl_verify(tmp_path, during.outputs["caCert"], pem, "-purpose", "sslclient").returncode == 0
    # The server keeps a certificate every edge trusts, including those still holding only CA 1.
    assert _verifies(_server(during), old)
    unchanged = _pki_urns(_symbolic(before))
    assert {urn: _pki_urns(_symbolic(during))[urn] for urn in unchanged} == unchanged, "nothing of phase one is replaced"


def test_rotation_after_drops_the_old_ca_and_keeps_the_new_certificates(rotation: dict[str, Recording]) -> None:
    during, after = rotation["change-over"], rotation["after"]
    (new,) = _bundle(after.outputs["caCert"])
    assert new.public_key() == _bundle(during.outputs["caCert"])[1].public_key()
    kept = {u: i for u, i in _pki_urns(_symbolic(during)).items() if "-ca-2-" in u}
    assert len(kept) == 2 and all(_pki_urns(_symbolic(after))[u] == i for u, i in kept.items()), "CA 2 stays as it is"
    assert after.outputs["cas"] == ["2"]
    assert after.outputs["accepted"] == {e: [pem] for e, pem in after.outputs["edgeCertificates"].items()}
    # The certificates the edges installed during the change-over stay as they are (same resources, same inputs).
    for edge in EU_EDGES:
        (urn,) = [u for u in _pki_urns(_symbolic(after)) if u.endswith(f"-edge-{edge}-2-cert")]
        assert _pki_urns(_symbolic(after))[urn] == _pki_urns(_symbolic(during))[urn]
        assert _verifies(_cert(after.outputs["edgeCertificates"][edge]), new)
    assert _verifies(_server(after), new)
    gone = _names(set(_pki_urns(_symbolic(during))) - set(_pki_urns(_symbolic(after))))
    assert gone == ["hub-eu-pki-ca-1-cert", "hub-eu-pki-ca-1-key", "hub-eu-pki-edge-edge-eu-1-cert", "hub-eu-pki-edge-edge-eu-north-1-cert"]


def test_rotation_to_the_same_ca_is_refused() -> None:
    with pytest.raises(ValueError, match="nextCa: '1' is already the current ca"):
        PkiSettings(nextCa="1")


# --- EdgeIdentity -----------------------------------------------------------------------------


def test_edge_identity_before_its_certificate_is_a_key_and_a_request() -> None:
    recording = _requests(Regime.GDPR, ["edge-eu"])
    declared = sorted(r["type"] for r in recording.resources if r.get("custom"))
    assert declared == ["tls:index/certRequest:CertRequest", "tls:index/privateKey:PrivateKey"]
    assert identity.check_request(recording.outputs["edge-eu"], "gdpr", "edge-eu", "s") == recording.outputs["edge-eu"]


def _edge_secret(certificate: str, trust: str) -> Recording:
    def program() -> None:
        EdgeIdentity(
            "edge-eu-identity",
            EdgeIdentityArgs(Regime.GDPR, "edge-eu", EdgeTls(certificate, trust, "hub", "observability")),
        )

    return run_program(program, stack="edge-eu")


def test_edge_secret_pairs_its_own_key_with_the_hubs_certificate(hub: Recording) -> None:
    recording = _edge_secret(hub.outputs["edgeCertificates"]["edge-eu"], hub.outputs["caCert"])
    record, state = _named(recording, "::edge-eu-identity-secret")
    assert record["inputs"]["type"] == "kubernetes.io/tls" and record["inputs"]["stringData"] == SECRET
    assert record["inputs"]["metadata"] == {"name": pki.EDGE_SECRET, "namespace": "observability"}
    data = state["stringData"]
    _, key_state = _named(recording, "::edge-eu-identity-key")
    assert data == {"tls.crt": hub.outputs["edgeCertificates"]["edge-eu"], "tls.key": key_state["privateKeyPem"],
                    "ca.crt": hub.outputs["caCert"]}


def test_edge_refuses_a_certificate_made_for_another_key(hub: Recording) -> None:
    with pytest.raises(identity.CertificateMismatch) as refused:
        _edge_secret(hub.outputs["edgeCertificates"]["edge-eu-north"], hub.outputs["caCert"])
    assert str(refused.value) == (
        "hub stack hub holds a certificate for another key of edge-eu: run `pulumi up` on hub, then on this stack again"
    )


# --- the program ------------------------------------------------------------------------------


def test_program_hubs_export_their_trust_bundle_and_every_edges_certificate(fleet: dict[str, engine.PreviewResult]) -> None:
    for name in ("hub", "hub-us", "hub-ap"):
        result = fleet[name]
        (ca,) = _bundle(result.outputs["caCert"])
        certificates = result.outputs["edgeCertificates"]
        assert sorted(certificates) == sorted(e.name for e in _hub(name).edges)
        assert all(_verifies(_cert(pem), ca) for pem in certificates.values())
        for edge, pem in certificates.items():
            request = x509.load_pem_x509_csr(fleet[edge].outputs["certificateRequest"].encode())
            assert _cert(pem).public_key().public_bytes(*SPKI) == request.public_key().public_bytes(*SPKI)


def test_program_no_stack_exports_a_secret_or_a_key(fleet: dict[str, engine.PreviewResult]) -> None:
    assert any("PRIVATE KEY" in json.dumps(result.state) for result in fleet.values())
    for name, result in fleet.items():
        assert not result.secret_outputs, f"{name} exports a secret"
        assert not _keyish(result.outputs), name
        assert "PRIVATE KEY" not in json.dumps(result.export()), name


def _keyish(value: Any, path: str = "") -> list[str]:
    """Paths in an output tree that hold key material or are named like a key."""
    if isinstance(value, dict):
        found = [f"{path}.{k}" for k in value if any(w in str(k).lower() for w in ("key", "password", "token", "secret"))]
        return found + [p for k, v in value.items() for p in _keyish(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _keyish(v, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and "PRIVATE KEY" in value else []


def test_the_key_grep_finds_a_key_where_there_is_one() -> None:
    assert _keyish({"a": [{"tls": "-----BEGIN EC PRIVATE KEY-----"}]}) == [".a[0].tls"]
    assert _keyish({"edgeKeys": {}}) == [".edgeKeys"]
    assert not _keyish({"caCert": "-----BEGIN CERTIFICATE-----", "certificateRequest": "x"})


def _previewed_pki(stacks_dir: Path) -> dict[str, Any]:
    results = {r.stack: r for r in preview_fleet(["hub"], stacks_dir=stacks_dir)}
    result = results["hub"]
    return _pki_urns(_symbolic(Recording(result.resources, result.outputs, result.secret_outputs)))


def _add_edge(stacks_dir: Path, name: str, region: str) -> None:
    document = yaml.safe_load((stacks_dir / "Pulumi.edge-eu.yaml").read_text())
    document["config"].update({"obsfleet:cluster": name, "obsfleet:region": region, "aws:region": region,
                               "obsfleet:seriesEstimate": 50_000})
    del document["config"]["obsfleet:clusterMesh"]
    (stacks_dir / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(document))


def _set_edges(stacks_dir: Path, edit: Any) -> None:
    path = stacks_dir / "Pulumi.hub.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["obsfleet:edges"] = edit(document["config"]["obsfleet:edges"])
    path.write_text(yaml.safe_dump(document))


def test_program_adding_an_edge_to_the_hub_config_changes_no_other_pki_resource(stacks_dir: Path) -> None:
    before = _previewed_pki(stacks_dir)
    _add_edge(stacks_dir, "edge-eu-south", "eu-south-1")
    _set_edges(stacks_dir, lambda edges: [{"name": "edge-eu-south", "region": "eu-south-1"}] + edges)
    after = _previewed_pki(stacks_dir)
    assert _names(set(after) - set(before)) == ["hub-eu-pki-edge-edge-eu-south-1-cert"]
    assert {urn: after[urn] for urn in before} == before


def test_program_removing_an_edge_from_the_hub_removes_its_certificate(stacks_dir: Path) -> None:
    before = _previewed_pki(stacks_dir)
    _set_edges(stacks_dir, lambda edges: [e for e in edges if e["name"] != "edge-eu-north"])
    results = {r.stack: r for r in preview_fleet(["hub", "edge-eu-north"], stacks_dir=stacks_dir)}
    assert sorted(results["hub"].outputs["edgeCertificates"]) == ["edge-eu"]
    after = _pki_urns(_symbolic(Recording(results["hub"].resources, {}, frozenset())))
    assert _names(set(before) - set(after)) == ["hub-eu-pki-edge-edge-eu-north-1-cert"]
    # The removed edge falls back to waiting: it declares its identity and nothing that would ship data.
    removed = results["edge-eu-north"]
    assert removed.outputs["onboarding"].startswith("waiting for a certificate: hub stack hub has none for edge-eu-north")
    assert "remoteWriteUrl" not in removed.outputs
    assert not [r for r in removed.resources if r["type"].startswith("kubernetes:")]
