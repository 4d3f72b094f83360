"""Edge identities: what a client certificate of the fleet says, and the checks both sides make.

An edge is `CN=<cluster>, O=obsfleet, OU=<regime>` with the single URI SAN
`obsfleet://<regime>/<cluster>`. The edge writes that into its certificate request; the hub signs
a request only if it says exactly that for an edge the hub lists, and the edge only pairs its key
with a certificate made for that key.
"""

from __future__ import annotations

from typing import Optional

import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ORGANIZATION = "obsfleet"
SCHEME = "obsfleet"
REQUEST_OUTPUT = "certificateRequest"
"""The edge stack output holding its certificate request (public PEM)."""
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def edge_uri(regime: str, cluster: str) -> str:
    """The URI SAN naming an edge's identity: its jurisdiction and cluster."""
    return f"{SCHEME}://{regime}/{cluster}"


def subject(regime: str, common_name: str) -> dict[str, str]:
    """Subject fields of a client identity (pulumi-tls `subject` argument names)."""
    return {"common_name": common_name, "organization": ORGANIZATION, "organizational_unit": regime}


class RequestRefused(pulumi.RunError):
    """An edge stack's certificate request is missing or does not name that edge."""


class CertificateMismatch(pulumi.RunError):
    """The hub's certificate for this edge was made for another key."""


def _expected_name(regime: str, cluster: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, regime),
        x509.NameAttribute(NameOID.COMMON_NAME, cluster),
    ])


def check_request(pem: Optional[str], regime: str, cluster: str, stack: str) -> str:
    """`pem` if it is a well-signed P-256 request for exactly this edge's identity; else RequestRefused
    naming the edge stack and what is wrong."""
    where = f"edge {cluster} (stack {stack})"
    if not pem:
        raise RequestRefused(
            f"{where} exports no {REQUEST_OUTPUT}: run `pulumi up` on that stack first "
            "(onboarding order: edge, hub, edge)"
        )
    try:
        request = x509.load_pem_x509_csr(str(pem).encode())
    except ValueError:
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} is not a PEM certificate request") from None
    if not request.is_signature_valid:
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} is not signed by its own key")
    key = request.public_key()
    if not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)):
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} key must be ECDSA P-256")
    expected = _expected_name(regime, cluster)
    if request.subject != expected:
        raise RequestRefused(
            f"{where}: {REQUEST_OUTPUT} subject is '{request.subject.rfc4514_string()}', "
            f"expected '{expected.rfc4514_string()}'"
        )
    try:
        names = list(request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        names = []
    uri = edge_uri(regime, cluster)
    if names != [x509.UniformResourceIdentifier(uri)]:
        shown = ", ".join(str(getattr(n, "value", n)) for n in names) or "none"
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} names {shown}, expected exactly the URI {uri}")
    if len(request.extensions) != 1:
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} asks for extensions besides its name; the hub decides usages")
    return str(pem)


def check_certificate(cert_pem: str, public_key_pem: str, cluster: str, hub: str) -> str:
    """`cert_pem` if it certifies this key; else CertificateMismatch telling the operator the order."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if cert.public_key().public_bytes(*_SPKI) != key.public_bytes(*_SPKI):
        raise CertificateMismatch(
            f"hub stack {hub} holds a certificate for another key of {cluster}: run `pulumi up` on {hub}, "
            "then on this stack again"
        )
    return cert_pem
