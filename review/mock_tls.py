"""Real PEM material for pulumi-tls resources under SDK mocks, built as terraform-provider-tls builds it.

Every certificate is made from its resource's inputs (subject, SANs, validity, key usages, signing
key and CA) with the same choices the provider's Go code makes (`internal/provider/common_cert.go`,
`resource_*.go`), so what the program declares can be verified with real TLS tools downstream.

Reviewing the same stacks twice writes the same bytes: a key is derived from its resource's type
and name (never usable outside the review: anyone can derive it), a certificate's serial number
from its resource's name, ECDSA signatures are deterministic (RFC 6979), and every certificate
starts at the fixed moment `START`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import ipaddress
import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from pulumi.runtime import rpc

from review.mock_registry import computes

PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey]
PublicKey = Union[rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey]

CURVES = {"P224": ec.SECP224R1, "P256": ec.SECP256R1, "P384": ec.SECP384R1, "P521": ec.SECP521R1}
# The provider's schema defaults.
DEFAULT_CURVE = "P224"
DEFAULT_RSA_BITS = 2048
RSA_EXPONENT = 65537
# The mock clock: when every certificate's validity starts (the real provider uses the time of
# `pulumi up`). Tests whose certificates meet real TLS peers move it to the wall clock.
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

# `allowed_uses` -> x509.KeyUsage flags (cryptography's field names) and ExtKeyUsage OIDs, one for one
# with the provider's `keyUsages` / `extendedKeyUsages` maps; unknown names are ignored, as there.
KEY_USAGES = {
    "digital_signature": "digital_signature",
    "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
    "encipher_only": "encipher_only",
    "decipher_only": "decipher_only",
}
EXTENDED_KEY_USAGES = {
    "any_extended": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec_end_system": ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec_tunnel": ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec_user": ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft_server_gated_crypto": ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape_server_gated_crypto": ObjectIdentifier("2.16.840.1.113730.4.1"),
    "microsoft_commercial_code_signing": ObjectIdentifier("1.3.6.1.4.1.311.2.1.22"),
    "microsoft_kernel_code_signing": ObjectIdentifier("1.3.6.1.4.1.311.61.1.1"),
}

# Go's pkix.Name.ToRDNSequence order; `emailAddress` is an extra name, appended last.
SUBJECT_FIELDS = (
    ("country", NameOID.COUNTRY_NAME),
    ("province", NameOID.STATE_OR_PROVINCE_NAME),
    ("locality", NameOID.LOCALITY_NAME),
    ("streetAddresses", NameOID.STREET_ADDRESS),
    ("postalCode", NameOID.POSTAL_CODE),
    ("organization", NameOID.ORGANIZATION_NAME),
    ("organizationalUnit", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("commonName", NameOID.COMMON_NAME),
    ("serialNumber", NameOID.SERIAL_NUMBER),
    ("emailAddress", NameOID.EMAIL_ADDRESS),
)


class NotComputable(Exception):
    """An input the provider needs is unknown (preview): its outputs stay unknown too."""


def _value(inputs: Mapping[str, Any], key: str, default: Any = None) -> Any:
    value = inputs.get(key, default)
    if rpc.is_rpc_secret(value):
        value = rpc.unwrap_rpc_secret(value)
    if value == rpc.UNKNOWN:
        raise NotComputable(key)
    return default if value is None else value


# --- keys -------------------------------------------------------------------------------------


def derive_key(seed: str, algorithm: str, ecdsa_curve: str = DEFAULT_CURVE, rsa_bits: int = DEFAULT_RSA_BITS) -> PrivateKey:
    """The key of `algorithm` that `seed` determines: the same seed gives the same key."""
    material = hashlib.shake_256(f"{algorithm}:{ecdsa_curve}:{rsa_bits}:{seed}".encode())
    if algorithm == "ECDSA":
        if ecdsa_curve not in CURVES:
            raise ValueError(f"invalid ECDSA curve {ecdsa_curve!r}; supported values are: {', '.join(CURVES)}")
        curve = CURVES[ecdsa_curve]()
        # One bit shorter than the group order, so below it without rejection; never zero.
        bits = curve.key_size - 1
        scalar = int.from_bytes(material.digest((bits + 7) // 8), "big") >> (-bits % 8)
        return ec.derive_private_key(scalar or 1, curve)
    if algorithm == "RSA":
        return _rsa_key(int(rsa_bits), random.Random(material.digest(32)))
    if algorithm == "ED25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(material.digest(32))
    raise ValueError(f"Key Algorithm {algorithm!r} is not supported")


def _rsa_key(bits: int, rng: random.Random) -> rsa.RSAPrivateKey:
    """An RSA key from two primes drawn from `rng` (each with its top two bits set, so the modulus
    has exactly `bits` bits)."""
    while True:
        p, q = _prime(bits - bits // 2, rng), _prime(bits // 2, rng)
        if p != q and math.gcd(RSA_EXPONENT, (p - 1) * (q - 1)) == 1:
            break
    d = pow(RSA_EXPONENT, -1, math.lcm(p - 1, q - 1))
    public = rsa.RSAPublicNumbers(RSA_EXPONENT, p * q)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    )
    return numbers.private_key()


SMALL_PRIMES = [n for n in range(3, 2000, 2) if all(n % f for f in range(3, math.isqrt(n) + 1, 2))]


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (0b11 << (bits - 2)) | 1
        if all(candidate % f for f in SMALL_PRIMES) and _miller_rabin(candidate, rng):
            return candidate


def _miller_rabin(n: int, rng: random.Random, rounds: int = 8) -> bool:
    """Random candidates of 512 bits and more need 7 rounds for an error below 2^-100 (FIPS 186-4,
    table C.2); composites almost always fail the first."""
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def key_pem(key: PrivateKey) -> str:
    """`private_key_pem`: PKCS#1 for RSA, SEC 1 for ECDSA, PKCS#8 for ED25519 (as the provider writes them)."""
    fmt = (
        serialization.PrivateFormat.PKCS8
        if isinstance(key, ed25519.Ed25519PrivateKey)
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def load_key(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def key_algorithm(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "RSA"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return "ECDSA"
    return "ED25519"


def _public_key_outputs(key: PrivateKey) -> dict[str, str]:
    public = key.public_key()
    outputs = {
        "publicKeyPem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode(),
        "publicKeyOpenssh": "",
        "publicKeyFingerprintMd5": "",
        "publicKeyFingerprintSha256": "",
        "privateKeyOpenssh": "",
    }
    # x/crypto/ssh has no P-224: the provider leaves the OpenSSH forms empty for it.
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP224R1):
        return outputs
    authorized = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(authorized.split()[1])
    md5 = hashlib.md5(blob).hexdigest()
    outputs.update(
        publicKeyOpenssh=authorized.decode() + "\n",
        publicKeyFingerprintMd5=":".join(md5[i:i + 2] for i in range(0, len(md5), 2)),
        publicKeyFingerprintSha256="SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("="),
        privateKeyOpenssh=_openssh_private(key, blob),
    )
    return outputs


def _openssh_private(key: PrivateKey, public_blob: bytes) -> str:
    """The OpenSSH private key form, with its check integers (random in OpenSSH and the provider)
    taken from the public key, so the same key always writes the same text."""
    pem_text = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    header, *body, footer = pem_text.strip().splitlines()
    data = base64.b64decode("".join(body))
    # magic, cipher "none", kdf "none", kdf options, key count, public key: then the private section.
    offset = len(b"openssh-key-v1\0")
    for _ in range(3):
        offset += 4 + int.from_bytes(data[offset:offset + 4], "big")
    offset += 4
    offset += 4 + int.from_bytes(data[offset:offset + 4], "big")
    check = hashlib.sha256(public_blob).digest()[:4]
    section = offset + 4  # past the private section's length
    data = data[:section] + check + check + data[section + 8:]
    encoded = base64.b64encode(data).decode()
    width = len(body[0])
    lines = [encoded[i:i + width] for i in range(0, len(encoded), width)]
    return "\n".join([header, *lines, footer]) + "\n"


def _hash_for(key: PrivateKey) -> Optional[hashes.HashAlgorithm]:
    """Go's signature hash choice per signing key (x509.signingParamsForKey)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {384: hashes.SHA384(), 521: hashes.SHA512()}.get(key.curve.key_size, hashes.SHA256())
    return hashes.SHA256()


# --- certificates -----------------------------------------------------------------------------


def subject_name(subject: Mapping[str, Any]) -> x509.Name:
    attributes = []
    for key, oid in SUBJECT_FIELDS:
        value = subject.get(key)
        for item in value if isinstance(value, list) else [value]:
            if item:
                attributes.append(x509.NameAttribute(oid, str(item)))
    return x509.Name(attributes)


def _general_names(dns_names: Sequence[str], ip_addresses: Sequence[str], uris: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    names += [x509.UniformResourceIdentifier(u) for u in uris]
    return names


@dataclass
class CertificateSpec:
    """What the provider puts in a certificate template (besides the names)."""

    subject: x509.Name
    names: list[x509.GeneralName] = field(default_factory=list)
    allowed_uses: Sequence[str] = ()
    is_ca: bool = False
    max_path_length: Optional[int] = None
    set_subject_key_id: bool = False
    set_authority_key_id: bool = False


def serial_number(seed: str) -> int:
    """A serial number in Go's range (rand.Int below 2^128, plus one) that `seed` determines."""
    return int.from_bytes(hashlib.shake_256(seed.encode()).digest(16), "big") % (2**128 - 1) + 1


def _sign(builder: Any, signer: PrivateKey) -> Any:
    """Sign a certificate or request; ECDSA with RFC 6979 nonces, so the same input signs the same."""
    return builder.sign(signer, _hash_for(signer), ecdsa_deterministic=isinstance(signer, ec.EllipticCurvePrivateKey) or None)


def issue(
    spec: CertificateSpec,
    public_key: PublicKey,
    signer: PrivateKey,
    issuer: Optional[x509.Certificate],
    not_before: dt.datetime,
    not_after: dt.datetime,
    serial: int,
) -> x509.Certificate:
    """Sign `spec` for `public_key` with `signer`; `issuer` None means self-signed.

    Extensions as Go's x509.CreateCertificate writes them for the provider's template.
    """
    issuer_name = issuer.subject if issuer is not None else spec.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(spec.subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    usages = {KEY_USAGES[u] for u in spec.allowed_uses if u in KEY_USAGES}
    if usages:
        builder = builder.add_extension(
            x509.KeyUsage(**{name: name in usages for name in KEY_USAGES.values()}), critical=True
        )
    extended = [EXTENDED_KEY_USAGES[u] for u in spec.allowed_uses if u in EXTENDED_KEY_USAGES]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    # Go leaves a zero MaxPathLen (without MaxPathLenZero) unset; the provider never sets MaxPathLenZero.
    path_length = spec.max_path_length if spec.is_ca and spec.max_path_length else None
    builder = builder.add_extension(x509.BasicConstraints(ca=spec.is_ca, path_length=path_length), critical=True)
    if spec.is_ca or spec.set_subject_key_id:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    authority = _authority_key_id(spec, issuer, public_key)
    if authority is not None:
        builder = builder.add_extension(authority, critical=False)
    if spec.names:
        # RFC 5280: the SAN extension is critical when the subject is empty.
        builder = builder.add_extension(x509.SubjectAlternativeName(spec.names), critical=len(spec.subject) == 0)
    return _sign(builder, signer)


def _authority_key_id(
    spec: CertificateSpec, issuer: Optional[x509.Certificate], public_key: PublicKey
) -> Optional[x509.AuthorityKeyIdentifier]:
    if issuer is None:
        # Self-signed: only on request (`set_authority_key_id`), from its own key.
        if not spec.set_authority_key_id:
            return None
        if not (spec.is_ca or spec.set_subject_key_id):
            raise ValueError("Invalid Certificate Authority: Could not determine Authority Key Identifier")
        ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
        return x509.AuthorityKeyIdentifier(ski.digest, None, None)
    # Signed by a CA: Go copies the parent's subject key id when it has one.
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return None
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def pem(cert: x509.Certificate | x509.CertificateSigningRequest) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _rfc3339(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _signed_outputs(name: str, inputs: Mapping[str, Any], spec: CertificateSpec, public_key: PublicKey,
                    signer: PrivateKey, issuer: Optional[x509.Certificate]) -> dict[str, Any]:
    hours = int(_value(inputs, "validityPeriodHours"))
    early = int(_value(inputs, "earlyRenewalHours", 0))
    start = START.replace(microsecond=0)
    end = start + dt.timedelta(hours=hours)
    cert = issue(spec, public_key, signer, issuer, start, end, serial_number(name))
    return {
        "certPem": pem(cert),
        "validityStartTime": _rfc3339(start),
        "validityEndTime": _rfc3339(end),
        "earlyRenewalHours": early,
        # Created false whatever the window: the provider flags renewal only when a later refresh or
        # plan finds `now` inside the early-renewal window, and then replaces the certificate.
        "readyForRenewal": False,
        "isCaCertificate": spec.is_ca,
        "setSubjectKeyId": spec.set_subject_key_id,
    }


def _spec(inputs: Mapping[str, Any], subject: x509.Name, names: list[x509.GeneralName]) -> CertificateSpec:
    return CertificateSpec(
        subject=subject,
        names=names,
        allowed_uses=list(_value(inputs, "allowedUses", [])),
        is_ca=bool(_value(inputs, "isCaCertificate", False)),
        max_path_length=_value(inputs, "maxPathLength"),
        set_subject_key_id=bool(_value(inputs, "setSubjectKeyId", False)),
        set_authority_key_id=bool(_value(inputs, "setAuthorityKeyId", False)),
    )


def _names_from_inputs(inputs: Mapping[str, Any]) -> list[x509.GeneralName]:
    return _general_names(
        _value(inputs, "dnsNames", []), _value(inputs, "ipAddresses", []), _value(inputs, "uris", [])
    )


def _check_key_matches(cert: x509.Certificate, key: PrivateKey) -> None:
    # Go's CreateCertificate refuses a parent whose public key is not the signer's.
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*der) != key.public_key().public_bytes(*der):
        raise ValueError("x509: provided PrivateKey doesn't match parent's PublicKey")


# --- the provider's resources -----------------------------------------------------------------


def _computing(
    fn: Callable[[Mapping[str, Any], str], dict[str, Any]]
) -> Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]:
    """A mock computation over the inputs and the resource's `type::name` (what derived keys and
    serial numbers come from); an unknown input leaves every output unknown."""

    @functools.wraps(fn)
    def compute(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        try:
            return fn(args.inputs, f"{args.typ}::{args.name}")
        except NotComputable:
            return {}

    return compute


@computes("tls:index/privateKey:PrivateKey")
@_computing
def private_key(inputs: Mapping[str, Any], name: str) -> dict[str, Any]:
    algorithm = _value(inputs, "algorithm")
    curve = _value(inputs, "ecdsaCurve", DEFAULT_CURVE)
    bits = int(_value(inputs, "rsaBits", DEFAULT_RSA_BITS))
    key = derive_key(name, algorithm, curve, bits)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "ecdsaCurve": curve,
        "rsaBits": bits,
        "privateKeyPem": key_pem(key),
        "privateKeyPemPkcs8": pkcs8,
        **_public_key_outputs(key),
    }


@computes("tls:index/selfSignedCert:SelfSignedCert")
@_computing
def self_signed_cert(inputs: Mapping[str, Any], name: str) -> dict[str, Any]:
    key = load_key(_value(inputs, "privateKeyPem"))
    spec = _spec(inputs, subject_name(_value(inputs, "subject", {})), _names_from_inputs(inputs))
    if spec.is_ca and len(spec.subject) == 0:
        raise ValueError("Must contain at least one Distinguished Name when creating Certificate Authority (CA)")
    return {"keyAlgorithm": key_algorithm(key), **_signed_outputs(name, inputs, spec, key.public_key(), key, None)}


@computes("tls:index/certRequest:CertRequest")
@_computing
def cert_request(inputs: Mapping[str, Any], _name: str) -> dict[str, Any]:
    key = load_key(_value(inputs, "privateKeyPem"))
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject_name(_value(inputs, "subject", {})))
    names = _names_from_inputs(inputs)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return {"certRequestPem": pem(_sign(builder, key)), "keyAlgorithm": key_algorithm(key)}


@computes("tls:index/locallySignedCert:LocallySignedCert")
@_computing
def locally_signed_cert(inputs: Mapping[str, Any], name: str) -> dict[str, Any]:
    request = x509.load_pem_x509_csr(_value(inputs, "certRequestPem").encode())
    ca_key = load_key(_value(inputs, "caPrivateKeyPem"))
    ca_cert = x509.load_pem_x509_certificate(_value(inputs, "caCertPem").encode())
    _check_key_matches(ca_cert, ca_key)
    try:
        names = list(request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        names = []
    # The template takes subject and SANs from the request, everything else from the inputs.
    spec = _spec(inputs, request.subject, names)
    public_key = request.public_key()
    return {
        "caKeyAlgorithm": key_algorithm(ca_key),
        **_signed_outputs(name, inputs, spec, public_key, ca_key, ca_cert),  # type: ignore[arg-type]
    }
