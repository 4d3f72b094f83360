"""Edge identities: what a client certificate of the fleet says, and the checks both sides make.

An edge is `CN=<cluster>, O=obsfleet, OU=<regime>` with the single URI SAN
`obsfleet://<regime>/<cluster>`. The edge writes that into its certificate request; the hub signs
a request only if it says exactly that for an edge the hub lists, and the edge only pairs its key
with a certificate made for that key.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import pulumi
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import UnsupportedGeneralNameType
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID, ObjectIdentifier

ORGANIZATION = "obsfleet"
SCHEME = "obsfleet"
REQUEST_OUTPUT = "certificateRequest"
"""The edge stack output holding its certificate request (public PEM)."""
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
MAX_REQUEST_CHARS = 16384
"""An edge's request is about 600 characters; anything near this bound is not one."""
EXTENSION_REQUEST = ObjectIdentifier("1.2.840.113549.1.9.14")
"""PKCS #9 extensionRequest: the one attribute an edge's request carries (its subject alternative name)."""
_NAME_TYPES = (_ASN1Type.PrintableString, _ASN1Type.UTF8String)
_PEM_REQUEST = re.compile(r"-----BEGIN CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE REQUEST-----")


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


def _expected_name(regime: str, cluster: str, string_type: _ASN1Type = _ASN1Type.UTF8String) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION, _type=string_type),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, regime, _type=string_type),
        x509.NameAttribute(NameOID.COMMON_NAME, cluster, _type=string_type),
    ])


def check_request(pem: Any, regime: str, cluster: str, stack: str) -> str:
    """The request in `pem`, re-encoded from the bytes checked, if it is one well-signed P-256 request
    for exactly this edge's identity; else RequestRefused naming the edge stack and what is wrong.

    The hub's signer (the TLS provider, Go's x509) parses what it is handed itself, and parsers
    differ on what this check would tolerate: text around or beside the PEM block, request
    attributes besides the one extension request (Go reads every extensionRequest attribute and
    ignores Microsoft's, cryptography reads the first of either). Only the one shape EdgeIdentity
    writes passes, and the signer gets exactly the DER that was checked."""
    where = f"edge {cluster} (stack {stack})"
    if pem is None or pem == "":
        raise RequestRefused(
            f"{where} exports no {REQUEST_OUTPUT}: run `pulumi up` on that stack first "
            "(onboarding order: edge, hub, edge)"
        )
    request = _parse_request(pem, where)
    try:
        key = request.public_key()
    except UnsupportedAlgorithm:
        key = None
    if not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)):
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} key must be ECDSA P-256")
    if not request.is_signature_valid:
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} is not signed by its own key")
    expected = _expected_name(regime, cluster)
    if request.subject != expected:
        raise RequestRefused(
            f"{where}: {REQUEST_OUTPUT} subject is '{_shown(request.subject.rfc4514_string())}', "
            f"expected '{expected.rfc4514_string()}'"
        )
    # Go's x509 keeps a name's value only from the string types it decodes (a CN it cannot read
    # would be left out of the certificate): the provider writes PrintableString, else UTF8String.
    if request.subject.public_bytes() not in {_expected_name(regime, cluster, t).public_bytes() for t in _NAME_TYPES}:
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} subject must encode its names as PrintableString or UTF8String")
    names = _requested_names(request, where)
    uri = edge_uri(regime, cluster)
    if names != [x509.UniformResourceIdentifier(uri)]:
        shown = ", ".join(_shown(str(getattr(n, "value", n))) for n in names) or "none"
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} names {shown}, expected exactly the URI {uri}")
    return request.public_bytes(serialization.Encoding.PEM).decode()


def _shown(text: str) -> str:
    """`text` on one line, with every character that is not printable ASCII escaped (a look-alike
    letter shows as its code point)."""
    return "".join(c if c.isascii() and c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _parse_request(pem: Any, where: str) -> x509.CertificateSigningRequest:
    """The one PEM request block `pem` consists of (surrounding whitespace aside)."""
    if not isinstance(pem, str):
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} is not text but {type(pem).__name__}; expected a PEM certificate request")
    if len(pem) > MAX_REQUEST_CHARS:
        raise RequestRefused(
            f"{where}: {REQUEST_OUTPUT} is {len(pem)} characters; a certificate request is at most {MAX_REQUEST_CHARS}"
        )
    block = _PEM_REQUEST.fullmatch(pem.strip())
    try:
        if block is None:
            raise ValueError("not one PEM block")
        return x509.load_der_x509_csr(base64.b64decode("".join(block.group(1).split()), validate=True))
    except (ValueError, binascii.Error, x509.InvalidVersion):
        raise RequestRefused(
            f"{where}: {REQUEST_OUTPUT} is not a PEM certificate request (exactly one "
            "'-----BEGIN CERTIFICATE REQUEST-----' block and nothing else)"
        ) from None


def _requested_names(request: x509.CertificateSigningRequest, where: str) -> list[x509.GeneralName]:
    """The subject alternative names of a request whose only attribute, if any, requests only them."""
    try:
        attributes = [attribute.oid for attribute in request.attributes]
        extensions = list(request.extensions)
    except (ValueError, x509.DuplicateExtension, UnsupportedGeneralNameType) as err:
        raise RequestRefused(f"{where}: {REQUEST_OUTPUT} is malformed ({err})") from None
    if attributes not in ([], [EXTENSION_REQUEST]):
        raise RequestRefused(
            f"{where}: {REQUEST_OUTPUT} carries the attributes {', '.join(a.dotted_string for a in attributes)}; "
            f"expected one extension request ({EXTENSION_REQUEST.dotted_string})"
        )
    names: list[x509.GeneralName] = []
    for requested in extensions:
        if not isinstance(requested.value, x509.SubjectAlternativeName):
            raise RequestRefused(f"{where}: {REQUEST_OUTPUT} asks for extensions besides its name; the hub decides usages")
        names.extend(requested.value)
    return names


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
