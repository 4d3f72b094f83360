"""review/mock_tls.py: pulumi-tls resources under mocks yield real, consistent PEM material.

Resources are declared through the real pulumi_tls SDK (so the wire names are the provider's),
and what comes back is checked with `cryptography` and, independently, with OpenSSL and OpenSSH.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pulumi_tls as tls
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from review import mock_tls
from review.engine import SECRET, Recording, run_program
from review.mock_registry import COMPUTED

SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _declare(build) -> tuple[Recording, dict[str, Any]]:
    """Run `build()` (returning {name: resource}) under mocks; the recording and each resource's real state."""
    made: dict[str, Any] = {}

    def program() -> None:
        made.update(build())

    recording = run_program(program, stack="mock-tls")
    by_name = {urn.rsplit("::", 1)[1]: state for urn, state in recording.state.items()}
    return recording, {name: by_name[name] for name in made}


def _cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _same_key(public_a, public_b) -> bool:
    return public_a.public_bytes(*SPKI) == public_b.public_bytes(*SPKI)


# --- keys -------------------------------------------------------------------------------------

KEYS = {
    "ecdsa-p256": (dict(algorithm="ECDSA", ecdsa_curve="P256"), ec.EllipticCurvePrivateKey, "EC PRIVATE KEY"),
    "ecdsa-p384": (dict(algorithm="ECDSA", ecdsa_curve="P384"), ec.EllipticCurvePrivateKey, "EC PRIVATE KEY"),
    "rsa-2048": (dict(algorithm="RSA", rsa_bits=2048), rsa.RSAPrivateKey, "RSA PRIVATE KEY"),
    "ed25519": (dict(algorithm="ED25519"), ed25519.Ed25519PrivateKey, "PRIVATE KEY"),
}


@pytest.fixture(scope="module")
def keys() -> dict[str, dict[str, Any]]:
    _, states = _declare(lambda: {name: tls.PrivateKey(name, **args) for name, (args, _, _) in KEYS.items()})
    return states


@pytest.mark.parametrize("name", sorted(KEYS))
def test_private_key_has_the_algorithm_and_the_providers_pem_forms(keys: dict[str, dict[str, Any]], name: str) -> None:
    _, kind, header = KEYS[name]
    state = keys[name]
    key = serialization.load_pem_private_key(state["privateKeyPem"].encode(), password=None)
    assert isinstance(key, kind)
    assert state["privateKeyPem"].startswith(f"-----BEGIN {header}-----")
    pkcs8 = serialization.load_pem_private_key(state["privateKeyPemPkcs8"].encode(), password=None)
    assert state["privateKeyPemPkcs8"].startswith("-----BEGIN PRIVATE KEY-----")
    public = serialization.load_pem_public_key(state["publicKeyPem"].encode())
    assert _same_key(pkcs8.public_key(), key.public_key()) and _same_key(public, key.public_key())
    openssh = serialization.load_ssh_private_key(state["privateKeyOpenssh"].encode(), password=None)
    assert _same_key(openssh.public_key(), key.public_key())
    if name == "ecdsa-p384":
        assert key.curve.name == "secp384r1"


@pytest.mark.parametrize("name", sorted(KEYS))
def test_openssh_public_key_and_fingerprints_agree_with_ssh_keygen(
    keys: dict[str, dict[str, Any]], name: str, tmp_path: Path
) -> None:
    state = keys[name]
    path = tmp_path / "key.pub"
    path.write_text(state["publicKeyOpenssh"])
    assert state["publicKeyOpenssh"].endswith("\n")
    for hash_name, output in (("md5", "publicKeyFingerprintMd5"), ("sha256", "publicKeyFingerprintSha256")):
        done = subprocess.run(["ssh-keygen", "-l", "-E", hash_name, "-f", str(path)], capture_output=True, text=True, check=True)
        fingerprint = done.stdout.split()[1].removeprefix("MD5:")
        assert state[output] == fingerprint


def test_p224_has_no_openssh_forms_as_in_the_provider() -> None:
    _, states = _declare(lambda: {"p224": tls.PrivateKey("p224", algorithm="ECDSA")})  # P224 is the default curve
    state = states["p224"]
    assert serialization.load_pem_private_key(state["privateKeyPem"].encode(), None).curve.name == "secp224r1"
    assert state["publicKeyOpenssh"] == state["privateKeyOpenssh"] == state["publicKeyFingerprintMd5"] == ""


def test_private_key_outputs_are_secret_in_the_export() -> None:
    recording, _ = _declare(lambda: {"k": tls.PrivateKey("k", algorithm="ECDSA", ecdsa_curve="P256")})
    (record,) = [r for r in recording.resources if r["type"] == "tls:index/privateKey:PrivateKey"]
    for output in ("privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"):
        assert record["outputs"][output] == SECRET
    assert record["outputs"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE KEY" not in json.dumps(recording.resources)


# --- certificates -----------------------------------------------------------------------------

SUBJECT = dict(
    common_name="edge-eu", organization="obsfleet", organizational_unit="gdpr", country="DE",
    province="Hessen", locality="Frankfurt", postal_code="60311", street_addresses=["Main 1"], serial_number="42",
)


def _ca_and_leaf(leaf_uses: list[str], **leaf_cert: Any):
    def build() -> dict[str, Any]:
        ca_key = tls.PrivateKey("ca-key", algorithm="ECDSA", ecdsa_curve="P384")
        ca = tls.SelfSignedCert(
            "ca", private_key_pem=ca_key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(common_name="Test CA", organization="obsfleet"),
            is_ca_certificate=True, allowed_uses=["cert_signing", "crl_signing"], validity_period_hours=240,
        )
        key = tls.PrivateKey("leaf-key", algorithm="ECDSA", ecdsa_curve="P256")
        csr = tls.CertRequest(
            "leaf-csr", private_key_pem=key.private_key_pem, subject=tls.CertRequestSubjectArgs(**SUBJECT),
            dns_names=["metrics.example.com"], ip_addresses=["127.0.0.1", "::1"], uris=["obsfleet://gdpr/edge-eu"],
        )
        leaf = tls.LocallySignedCert(
            "leaf", cert_request_pem=csr.cert_request_pem, ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem, allowed_uses=leaf_uses, **{"validity_period_hours": 48, **leaf_cert},
        )
        return {"ca-key": ca_key, "ca": ca, "leaf-key": key, "leaf-csr": csr, "leaf": leaf}

    return _declare(build)


@pytest.fixture(scope="module")
def chain() -> tuple[Recording, dict[str, Any]]:
    return _ca_and_leaf(["client_auth", "digital_signature"], early_renewal_hours=12)


def test_self_signed_ca_follows_its_inputs(chain) -> None:
    _, states = chain
    ca = _cert(states["ca"]["certPem"])
    ca_key = serialization.load_pem_private_key(states["ca-key"]["privateKeyPem"].encode(), None)
    assert _same_key(ca.public_key(), ca_key.public_key())
    ca.verify_directly_issued_by(ca)
    assert ca.subject == ca.issuer
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Test CA"
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length is None
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign and not usage.value.digital_signature
    with pytest.raises(x509.ExtensionNotFound):
        ca.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ca.public_key())
    assert ca.not_valid_after_utc - ca.not_valid_before_utc == dt.timedelta(hours=240)
    assert states["ca"]["keyAlgorithm"] == "ECDSA"
    assert states["ca"]["validityStartTime"] == ca.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert states["ca"]["validityEndTime"] == ca.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_cert_request_carries_subject_and_sans(chain) -> None:
    _, states = chain
    csr = x509.load_pem_x509_csr(states["leaf-csr"]["certRequestPem"].encode())
    assert csr.is_signature_valid
    key = serialization.load_pem_private_key(states["leaf-key"]["privateKeyPem"].encode(), None)
    assert _same_key(csr.public_key(), key.public_key())
    # Go's pkix.Name order.
    assert [(a.oid, a.value) for a in csr.subject] == [
        (NameOID.COUNTRY_NAME, "DE"), (NameOID.STATE_OR_PROVINCE_NAME, "Hessen"), (NameOID.LOCALITY_NAME, "Frankfurt"),
        (NameOID.STREET_ADDRESS, "Main 1"), (NameOID.POSTAL_CODE, "60311"), (NameOID.ORGANIZATION_NAME, "obsfleet"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "gdpr"), (NameOID.COMMON_NAME, "edge-eu"), (NameOID.SERIAL_NUMBER, "42"),
    ]
    assert states["leaf-csr"]["keyAlgorithm"] == "ECDSA"


def test_locally_signed_cert_is_issued_by_the_ca_from_the_request(chain) -> None:
    _, states = chain
    ca, leaf = _cert(states["ca"]["certPem"]), _cert(states["leaf"]["certPem"])
    csr = x509.load_pem_x509_csr(states["leaf-csr"]["certRequestPem"].encode())
    leaf.verify_directly_issued_by(ca)
    assert leaf.issuer == ca.subject and leaf.subject == csr.subject
    assert _same_key(leaf.public_key(), csr.public_key())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["metrics.example.com"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == ["obsfleet://gdpr/edge-eu"]
    assert leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == dt.timedelta(hours=48)
    assert leaf.signature_hash_algorithm.name == "sha384"  # Go hashes with the CA key's curve size
    assert states["leaf"]["caKeyAlgorithm"] == "ECDSA"
    assert states["leaf"]["earlyRenewalHours"] == 12 and states["leaf"]["readyForRenewal"] is False


def test_openssl_accepts_the_chain_for_the_allowed_purpose_only(chain, tmp_path: Path) -> None:
    _, states = chain
    (tmp_path / "ca.pem").write_text(states["ca"]["certPem"])
    (tmp_path / "leaf.pem").write_text(states["leaf"]["certPem"])

    # At the moment the mock certificates start (fixed, whatever the day the tests run).
    at = str(int(mock_tls.START.timestamp()))

    def verify(purpose: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["openssl", "verify", "-attime", at, "-CAfile", str(tmp_path / "ca.pem"), "-purpose", purpose,
             str(tmp_path / "leaf.pem")],
            capture_output=True, text=True,
        )

    assert verify("sslclient").returncode == 0, verify("sslclient").stderr
    assert verify("sslserver").returncode != 0


def test_secret_inputs_of_certificates_are_masked(chain) -> None:
    recording, _ = chain
    by_name = {r["urn"].rsplit("::", 1)[1]: r for r in recording.resources}
    assert by_name["leaf"]["inputs"]["caPrivateKeyPem"] == SECRET
    assert by_name["leaf-csr"]["inputs"]["privateKeyPem"] == SECRET
    assert by_name["ca"]["inputs"]["privateKeyPem"] == SECRET
    assert "PRIVATE KEY" not in json.dumps(recording.resources)


# The provider's `allowed_uses` names and what Go writes for them (x509.KeyUsage bits, EKU OIDs).
KEY_USAGE_FLAGS = {
    "digital_signature": "digital_signature", "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment", "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement", "cert_signing": "key_cert_sign", "crl_signing": "crl_sign",
    "encipher_only": "encipher_only", "decipher_only": "decipher_only",
}
EKU_OIDS = {
    "any_extended": "2.5.29.37.0", "server_auth": "1.3.6.1.5.5.7.3.1", "client_auth": "1.3.6.1.5.5.7.3.2",
    "code_signing": "1.3.6.1.5.5.7.3.3", "email_protection": "1.3.6.1.5.5.7.3.4",
    "ipsec_end_system": "1.3.6.1.5.5.7.3.5", "ipsec_tunnel": "1.3.6.1.5.5.7.3.6", "ipsec_user": "1.3.6.1.5.5.7.3.7",
    "timestamping": "1.3.6.1.5.5.7.3.8", "ocsp_signing": "1.3.6.1.5.5.7.3.9",
    "microsoft_server_gated_crypto": "1.3.6.1.4.1.311.10.3.3", "netscape_server_gated_crypto": "2.16.840.1.113730.4.1",
    "microsoft_commercial_code_signing": "1.3.6.1.4.1.311.2.1.22", "microsoft_kernel_code_signing": "1.3.6.1.4.1.311.61.1.1",
}


@pytest.mark.parametrize("use", sorted(KEY_USAGE_FLAGS))
def test_each_key_usage_maps_to_its_flag(use: str) -> None:
    # cryptography only encodes encipher/decipher_only together with key_agreement.
    uses = [use, "key_agreement"] if use in ("encipher_only", "decipher_only") else [use]
    _, states = _ca_and_leaf(uses)
    usage = _cert(states["leaf"]["certPem"]).extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    set_flags = {flag for flag in KEY_USAGE_FLAGS.values() if _flag(usage.value, flag)}
    assert set_flags == {KEY_USAGE_FLAGS[u] for u in uses}
    with pytest.raises(x509.ExtensionNotFound):
        _cert(states["leaf"]["certPem"]).extensions.get_extension_for_class(x509.ExtendedKeyUsage)


def _flag(usage: x509.KeyUsage, name: str) -> bool:
    if name in ("encipher_only", "decipher_only") and not usage.key_agreement:
        return False  # cryptography refuses to read these unless key_agreement is set
    return getattr(usage, name)


def test_extended_key_usages_map_to_their_oids() -> None:
    _, states = _ca_and_leaf(sorted(EKU_OIDS))
    extensions = _cert(states["leaf"]["certPem"]).extensions
    extended = extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert not extended.critical
    assert [oid.dotted_string for oid in extended.value] == [EKU_OIDS[u] for u in sorted(EKU_OIDS)]
    with pytest.raises(x509.ExtensionNotFound):
        extensions.get_extension_for_class(x509.KeyUsage)


def test_unknown_uses_are_ignored_like_the_provider() -> None:
    _, states = _ca_and_leaf(["no_such_use"])
    extensions = _cert(states["leaf"]["certPem"]).extensions
    for kind in (x509.KeyUsage, x509.ExtendedKeyUsage):
        with pytest.raises(x509.ExtensionNotFound):
            extensions.get_extension_for_class(kind)


def test_a_new_certificate_is_not_ready_for_renewal_even_inside_the_window() -> None:
    # The provider's create leaves the plan's default (false); only a later run's refresh flags it.
    _, states = _ca_and_leaf(["client_auth"], validity_period_hours=10, early_renewal_hours=10)
    assert states["leaf"]["readyForRenewal"] is False and states["leaf"]["earlyRenewalHours"] == 10


def test_self_signed_leaf_without_subject_gets_a_critical_san() -> None:
    def build() -> dict[str, Any]:
        key = tls.PrivateKey("k", algorithm="ED25519")
        return {"cert": tls.SelfSignedCert(
            "cert", private_key_pem=key.private_key_pem, allowed_uses=["server_auth"],
            dns_names=["a.example.com"], validity_period_hours=1, set_subject_key_id=True,
        )}

    _, states = _declare(build)
    cert = _cert(states["cert"]["certPem"])
    assert len(cert.subject) == 0
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).critical
    assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert cert.signature_hash_algorithm is None  # ED25519 signs without a separate hash
    assert states["cert"]["keyAlgorithm"] == "ED25519"


def test_ca_signing_with_a_foreign_key_fails_like_go() -> None:
    compute = COMPUTED["tls:index/locallySignedCert:LocallySignedCert"]
    _, states = _ca_and_leaf(["client_auth"])
    inputs = {
        "certRequestPem": states["leaf-csr"]["certRequestPem"],
        "caCertPem": states["ca"]["certPem"],
        "caPrivateKeyPem": states["leaf-key"]["privateKeyPem"],
        "allowedUses": ["client_auth"],
        "validityPeriodHours": 1,
    }
    with pytest.raises(ValueError, match="doesn't match parent's PublicKey"):
        compute(pulumi.runtime.MockResourceArgs("tls:index/locallySignedCert:LocallySignedCert", "x", inputs))


def test_unknown_inputs_leave_outputs_unknown() -> None:
    compute = COMPUTED["tls:index/selfSignedCert:SelfSignedCert"]
    args = pulumi.runtime.MockResourceArgs(
        "tls:index/selfSignedCert:SelfSignedCert", "x", {"privateKeyPem": pulumi.runtime.rpc.UNKNOWN, "validityPeriodHours": 1}
    )
    assert compute(args) == {}


# --- determinism --------------------------------------------------------------------------------


def test_the_same_declarations_give_the_same_keys_and_certificates() -> None:
    _, first = _ca_and_leaf(["client_auth"])
    _, second = _ca_and_leaf(["client_auth"])
    assert first == second
    assert first["ca"]["validityStartTime"] == mock_tls.START.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("name", sorted(KEYS))
def test_a_key_follows_its_resources_name(name: str) -> None:
    args, _, _ = KEYS[name]
    _, states = _declare(lambda: {n: tls.PrivateKey(n, **args) for n in ("a", "b")})
    _, again = _declare(lambda: {"a": tls.PrivateKey("a", **args)})
    assert states["a"]["privateKeyPem"] == again["a"]["privateKeyPem"]
    assert states["a"]["privateKeyPem"] != states["b"]["privateKeyPem"]


def test_certificates_of_different_resources_have_different_serials() -> None:
    _, states = _declare(lambda: {
        n: tls.SelfSignedCert(n, private_key_pem=tls.PrivateKey(f"{n}-key", algorithm="ED25519").private_key_pem,
                              subject=tls.SelfSignedCertSubjectArgs(common_name="same"), allowed_uses=["server_auth"],
                              validity_period_hours=1)
        for n in ("one", "two")
    })
    assert _cert(states["one"]["certPem"]).serial_number != _cert(states["two"]["certPem"]).serial_number
