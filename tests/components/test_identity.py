"""components/identity.py's request check against what a hostile edge can export: every shape the
hub's signer (Go's x509 in the TLS provider) could read differently from the check is refused with
one line naming the edge, its stack and the output; what passes is handed on re-encoded."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from components import identity
from tests.components.forged_requests import (
    CHALLENGE_PASSWORD,
    DNS_NAME,
    EXTENSION_REQUEST,
    MS_EXTENSION_REQUEST,
    PRINTABLE,
    SEQUENCE,
    UNIVERSAL,
    URI_NAME,
    VISIBLE,
    Forged,
    alt_names,
    attribute,
    extension,
    extensions,
    loads,
    name,
    oid,
    pem_block,
    tlv,
)

REGIME, EDGE, OTHER = "gdpr", "edge-eu", "edge-eu-north"
STACK = "acme/obsfleet/edge-eu"
WHERE = f"edge {EDGE} (stack {STACK}): certificateRequest"
OWN = (URI_NAME, identity.edge_uri(REGIME, EDGE))
THEIRS = (URI_NAME, identity.edge_uri(REGIME, OTHER))


def _asking(*items: bytes) -> list[bytes]:
    """The one extension request EdgeIdentity writes, with these extensions."""
    return [attribute(EXTENSION_REQUEST, extensions(*items))]


def _check(pem: Any) -> str:
    return identity.check_request(pem, REGIME, EDGE, STACK)


def _usage(*usages: str) -> bytes:
    return extension(ExtensionOID.EXTENDED_KEY_USAGE.dotted_string, tlv(SEQUENCE, b"".join(oid(u) for u in usages)))


def test_the_shape_an_edge_writes_passes_in_either_string_type() -> None:
    for string_tag in (PRINTABLE, 0x0C):
        pem = Forged(name(REGIME, EDGE, string_tag), _asking(alt_names(OWN))).pem()
        assert _check(pem) == pem


FORGED: dict[str, tuple[Forged, str]] = {
    # Go reads every extensionRequest attribute and ignores Microsoft's; the check must not read
    # a different one than the signer would.
    "Microsoft's extension request naming the edge before a standard one naming another": (
        Forged(name(REGIME, EDGE), [attribute(MS_EXTENSION_REQUEST, extensions(alt_names(OWN))),
                                    attribute(EXTENSION_REQUEST, extensions(alt_names(THEIRS)))]),
        f"{WHERE} carries the attributes {MS_EXTENSION_REQUEST}, {EXTENSION_REQUEST}; expected one extension request",
    ),
    "two extension requests, the second naming another edge": (
        Forged(name(REGIME, EDGE), [attribute(EXTENSION_REQUEST, extensions(alt_names(OWN))),
                                    attribute(EXTENSION_REQUEST, extensions(alt_names(THEIRS)))]),
        f"{WHERE} carries the attributes {EXTENSION_REQUEST}, {EXTENSION_REQUEST}",
    ),
    "one extension request with two values": (
        Forged(name(REGIME, EDGE), [attribute(EXTENSION_REQUEST, extensions(alt_names(OWN)), extensions(alt_names(THEIRS)))]),
        f"{WHERE} is malformed (Only single-valued attributes are supported)",
    ),
    "its name requested twice": (
        Forged(name(REGIME, EDGE), _asking(alt_names(OWN), alt_names(THEIRS))),
        f"{WHERE} is malformed (Duplicate 2.5.29.17 extension found)",
    ),
    "a challenge password beside its extension request": (
        Forged(name(REGIME, EDGE), [attribute(CHALLENGE_PASSWORD, tlv(PRINTABLE, b"x"))] + _asking(alt_names(OWN))),
        f"{WHERE} carries the attributes {CHALLENGE_PASSWORD}, {EXTENSION_REQUEST}",
    ),
    "a CA certificate (basicConstraints CA:TRUE)": (
        Forged(name(REGIME, EDGE), _asking(alt_names(OWN), extension(
            ExtensionOID.BASIC_CONSTRAINTS.dotted_string, tlv(SEQUENCE, tlv(0x01, b"\xff")), critical=True))),
        f"{WHERE} asks for extensions besides its name; the hub decides usages",
    ),
    "server authentication": (
        Forged(name(REGIME, EDGE), _asking(alt_names(OWN), _usage(ExtendedKeyUsageOID.SERVER_AUTH.dotted_string))),
        f"{WHERE} asks for extensions besides its name",
    ),
    "any extended key usage": (
        Forged(name(REGIME, EDGE), _asking(alt_names(OWN), _usage(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE.dotted_string))),
        f"{WHERE} asks for extensions besides its name",
    ),
    "its URI and another edge's": (
        Forged(name(REGIME, EDGE), _asking(alt_names(OWN, THEIRS))),
        f"{WHERE} names obsfleet://gdpr/edge-eu, obsfleet://gdpr/edge-eu-north, expected exactly the URI obsfleet://gdpr/edge-eu",
    ),
    "another edge's URI only": (
        Forged(name(REGIME, EDGE), _asking(alt_names(THEIRS))),
        f"{WHERE} names obsfleet://gdpr/edge-eu-north, expected exactly the URI",
    ),
    "its URI and DNS names": (
        Forged(name(REGIME, EDGE), _asking(alt_names(OWN, (DNS_NAME, "metrics.obs.eu.example.com"), (DNS_NAME, "*")))),
        f"{WHERE} names obsfleet://gdpr/edge-eu, metrics.obs.eu.example.com, *, expected exactly",
    ),
    "another edge's subject": (
        Forged(name(REGIME, OTHER), _asking(alt_names(OWN))),
        f"{WHERE} subject is 'CN=edge-eu-north,OU=gdpr,O=obsfleet', expected 'CN=edge-eu,OU=gdpr,O=obsfleet'",
    ),
    "nginx syntax in its CN": (
        Forged(name(REGIME, 'edge-eu";\n}\nmap $x $y {'), _asking(alt_names(OWN))),
        f"{WHERE} subject is 'CN=edge-eu\\\"\\;\\n}}\\nmap $x $y {{,OU=gdpr,O=obsfleet'",
    ),
    "a look-alike CN (U+2010 hyphen)": (
        Forged(name(REGIME, "edge\u2010eu"), _asking(alt_names(OWN))),
        f"{WHERE} subject is 'CN=edge\\u2010eu,OU=gdpr,O=obsfleet'",
    ),
    "a label value in its URI": (
        Forged(name(REGIME, EDGE), _asking(alt_names((URI_NAME, 'obsfleet://gdpr/edge-eu",cluster="edge-eu-north')))),
        f"{WHERE} names obsfleet://gdpr/edge-eu\",cluster=\"edge-eu-north, expected exactly",
    ),
    # Go keeps only the string types it decodes: this CN would be left out of the certificate.
    "its CN as a VisibleString": (
        Forged(name(REGIME, EDGE, VISIBLE), _asking(alt_names(OWN))),
        f"{WHERE} subject must encode its names as PrintableString or UTF8String",
    ),
    "its CN as a UniversalString": (
        Forged(name(REGIME, EDGE, UNIVERSAL), _asking(alt_names(OWN))),
        f"{WHERE} subject must encode its names as PrintableString or UTF8String",
    ),
    "a key it cannot sign with (another key's public key, its own signature)": (
        Forged(name(REGIME, EDGE), _asking(alt_names(OWN)), public_key=ec.generate_private_key(ec.SECP256R1()).public_key()
               .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)),
        f"{WHERE} is not signed by its own key",
    ),
    "a key of an unknown algorithm": (
        Forged(name(REGIME, EDGE), _asking(alt_names(OWN)),
               public_key=tlv(SEQUENCE, tlv(SEQUENCE, oid("1.2.3.4.5")) + tlv(0x03, b"\x00\x04" + bytes(64)))),
        f"{WHERE} key must be ECDSA P-256",
    ),
    "an unknown request version": (
        Forged(name(REGIME, EDGE), _asking(alt_names(OWN)), version=2),
        f"{WHERE} is not a PEM certificate request",
    ),
}


@pytest.mark.parametrize("case", list(FORGED))
def test_a_request_the_signer_could_read_otherwise_is_refused(case: str) -> None:
    forged, message = FORGED[case]
    with pytest.raises(identity.RequestRefused) as refused:
        _check(forged.pem())
    assert str(refused.value).startswith(message), case


def _good() -> str:
    return Forged(name(REGIME, EDGE, PRINTABLE), _asking(alt_names(OWN))).pem()


NOT_A_REQUEST = "is not a PEM certificate request (exactly one '-----BEGIN CERTIFICATE REQUEST-----' block and nothing else)"
OUTPUTS: dict[str, tuple[Any, str]] = {
    "missing": (None, "exports no certificateRequest: run `pulumi up` on that stack first"),
    "empty": ("", "exports no certificateRequest"),
    "an object": ({"pem": "x"}, "certificateRequest is not text but dict; expected a PEM certificate request"),
    "a list of requests": ([_good()], "certificateRequest is not text but list"),
    "a number": (7, "certificateRequest is not text but int"),
    "a boolean": (True, "certificateRequest is not text but bool"),
    "oversized": ("A" * 5_000_000, "certificateRequest is 5000000 characters; a certificate request is at most 16384"),
    "text before the block": ("take this: " + _good(), NOT_A_REQUEST),
    "a line-start block after a mid-line one": ("x" + _good() + _good(), NOT_A_REQUEST),
    "two blocks": (_good() + _good(), NOT_A_REQUEST),
    "text after the block": (_good() + "trailing", NOT_A_REQUEST),
    "a certificate block": (_good().replace("CERTIFICATE REQUEST", "CERTIFICATE"), NOT_A_REQUEST),
    "a private key block": (_good().replace("CERTIFICATE REQUEST", "EC PRIVATE KEY"), NOT_A_REQUEST),
    "not base64": (_good()[:60] + "!*" + _good()[60:], NOT_A_REQUEST),
    "base64 of junk": (pem_block(b"\x30\x03\x02\x01\x00"), NOT_A_REQUEST),
    "trailing bytes inside the block": (pem_block(loads(_good()).public_bytes(serialization.Encoding.DER) + b"\x00"), NOT_A_REQUEST),
    "a NUL": ("\x00", NOT_A_REQUEST),
}


@pytest.mark.parametrize("case", list(OUTPUTS))
def test_an_output_that_is_not_one_request_is_refused_on_one_line(case: str) -> None:
    value, message = OUTPUTS[case]
    with pytest.raises(identity.RequestRefused) as refused:
        _check(value)
    text = str(refused.value)
    assert text.startswith(f"edge {EDGE} (stack {STACK})") and message in text, case
    assert "\n" not in text and len(text) < 300


def test_the_signer_gets_the_der_that_was_checked() -> None:
    good = _good()
    # Line endings and whitespace around the block are the only freedom; what is handed on is the
    # block re-encoded from its DER.
    loose = "\n  " + good.replace("\n", "\r\n") + "\n\n"
    assert _check(loose) == good == loads(good).public_bytes(serialization.Encoding.PEM).decode()
