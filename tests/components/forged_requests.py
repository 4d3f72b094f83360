"""Certificate requests no CSR builder writes, DER-encoded by hand: what a hostile edge can export
as its `certificateRequest` (its own key and signature, any structure inside)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID

SEQUENCE, SET, INTEGER, OID, OCTETS, BITS, CONTEXT_0 = 0x30, 0x31, 0x02, 0x06, 0x04, 0x03, 0xA0
UTF8, PRINTABLE, VISIBLE, UNIVERSAL = 0x0C, 0x13, 0x1A, 0x1C
URI_NAME, DNS_NAME = 0x86, 0x82
EXTENSION_REQUEST = "1.2.840.113549.1.9.14"
MS_EXTENSION_REQUEST = "1.3.6.1.4.1.311.2.1.14"
CHALLENGE_PASSWORD = "1.2.840.113549.1.9.7"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"


def tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def oid(dotted: str) -> bytes:
    first, second, *rest = (int(part) for part in dotted.split("."))
    body = bytearray([40 * first + second])
    for arc in rest:
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return tlv(OID, bytes(body))


def name(regime: str, cluster: str, string_tag: int = UTF8) -> bytes:
    """O, OU, CN as an edge's subject, each value in `string_tag`'s encoding."""

    def encode(text: str) -> bytes:
        return text.encode("utf-32-be") if string_tag == UNIVERSAL else text.encode()

    rdns = [(NameOID.ORGANIZATION_NAME, "obsfleet"), (NameOID.ORGANIZATIONAL_UNIT_NAME, regime), (NameOID.COMMON_NAME, cluster)]
    return tlv(SEQUENCE, b"".join(
        tlv(SET, tlv(SEQUENCE, oid(o.dotted_string) + tlv(string_tag, encode(v)))) for o, v in rdns
    ))


def alt_names(*names: tuple[int, str]) -> bytes:
    """A subjectAltName extension: (GeneralName tag, value) each."""
    general = b"".join(tlv(tag, value.encode()) for tag, value in names)
    return extension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME.dotted_string, tlv(SEQUENCE, general))


def extension(extension_oid: str, value: bytes, critical: bool = False) -> bytes:
    flag = tlv(0x01, b"\xff") if critical else b""
    return tlv(SEQUENCE, oid(extension_oid) + flag + tlv(OCTETS, value))


def attribute(attribute_oid: str, *values: bytes) -> bytes:
    return tlv(SEQUENCE, oid(attribute_oid) + tlv(SET, b"".join(values)))


def extensions(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


@dataclass
class Forged:
    """A request signed by `key` (a fresh P-256 key unless given) with these parts as encoded."""

    subject: bytes
    attributes: list[bytes]
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    version: int = 0
    public_key: bytes = b""
    """The SubjectPublicKeyInfo to claim; empty: `key`'s."""

    def der(self) -> bytes:
        spki = self.public_key or self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        info = tlv(SEQUENCE, tlv(INTEGER, bytes([self.version])) + self.subject + spki + tlv(CONTEXT_0, b"".join(self.attributes)))
        signature = self.key.sign(info, ec.ECDSA(hashes.SHA256()))
        return tlv(SEQUENCE, info + tlv(SEQUENCE, oid(ECDSA_SHA256)) + tlv(BITS, b"\x00" + signature))

    def pem(self) -> str:
        return pem_block(self.der())


def pem_block(der: str | bytes) -> str:
    text = base64.b64encode(der if isinstance(der, bytes) else der.encode()).decode()
    lines = "".join(f"{text[i:i + 64]}\n" for i in range(0, len(text), 64))
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{lines}-----END CERTIFICATE REQUEST-----\n"


def loads(pem: str) -> x509.CertificateSigningRequest:
    return x509.load_pem_x509_csr(pem.encode())
