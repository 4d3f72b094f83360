"""The fleet's PKI: a hub's CA(s), its ingest server certificate, and the certificates it signs from
its edges' requests.

A private key never leaves the stack that uses it: an edge exports only its certificate request,
the hub only certificates. Onboarding, renewal, CA rotation and revocation: docs/deployments.md
"Edge identities".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from components import identity
from components.regions import Regime
from components.settings import PkiSettings

PKI_TYPE = "obsfleet:index:FleetPki"
EDGE_TYPE = "obsfleet:index:EdgeIdentity"

KEY_ALGORITHM = "ECDSA"
KEY_CURVE = "P256"
# The CA signs certificates and nothing else: the fleet publishes no CRLs (a certificate is
# withdrawn by deleting it: the front door admits only the certificates the hub currently holds).
CA_USES = ["cert_signing"]
# ECDSA keys only sign (the TLS handshake): keyEncipherment is for RSA key transport (RFC 5480 §3).
SERVER_USES = ["server_auth", "digital_signature"]
CLIENT_USES = ["client_auth", "digital_signature"]

# Keys of the kubernetes.io/tls Secrets (the type fixes tls.crt/tls.key; ca.crt is the usual extra).
TLS_CERT = "tls.crt"
TLS_KEY = "tls.key"
CA_CERT = "ca.crt"
SERVER_SECRET = "obsfleet-ingest-tls"
EDGE_SECRET = "obsfleet-hub-client-tls"


@dataclass(frozen=True)
class EdgeRequest:
    """An edge's certificate request as the hub reads it."""

    stack: str
    """The edge's fully qualified stack, named in errors."""
    pem: pulumi.Input[Optional[str]]
    """Its `certificateRequest` output (None while the edge has not run)."""


@dataclass(frozen=True)
class FleetPkiArgs:
    regime: Regime
    """The hub's regime: part of every identity it signs (URI SAN)."""
    cluster: str
    """The hub's cluster name (names the CA)."""
    hosts: Sequence[str]
    """Ingest hostnames the server certificate covers (`IngestEndpoints.hosts`)."""
    requests: Mapping[str, EdgeRequest]
    """Edge cluster name (`HubSettings.edges[].name`) -> its certificate request: one certificate each."""
    settings: PkiSettings
    """Validity, early renewal, and which CA signs."""
    namespace: pulumi.Input[str]
    """Namespace of the hub's Secrets."""


def tls_secret(
    resource_name: str,
    secret_name: str,
    namespace: pulumi.Input[str],
    cert: pulumi.Input[str],
    key: pulumi.Input[str],
    ca: pulumi.Input[str],
    parent: pulumi.Resource,
) -> k8s.core.v1.Secret:
    """A kubernetes.io/tls Secret with the CA bundle; its `string_data` is secret as a whole, whatever its parts."""
    return k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=secret_name, namespace=namespace),
        type="kubernetes.io/tls",
        string_data=pulumi.Output.secret(pulumi.Output.all(**{TLS_CERT: cert, TLS_KEY: key, CA_CERT: ca})),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def private_key(name: str, parent: pulumi.Resource) -> tls.PrivateKey:
    return tls.PrivateKey(
        name, algorithm=KEY_ALGORITHM, ecdsa_curve=KEY_CURVE, opts=pulumi.ResourceOptions(parent=parent)
    )


def client_request(name: str, key: tls.PrivateKey, regime: str, common_name: str, parent: pulumi.Resource) -> tls.CertRequest:
    """A request for a client identity of this jurisdiction: CN = cluster, URI SAN obsfleet://<regime>/<cluster>."""
    return tls.CertRequest(
        name,
        private_key_pem=key.private_key_pem,
        subject=tls.CertRequestSubjectArgs(**identity.subject(regime, common_name)),
        uris=[identity.edge_uri(regime, common_name)],
        opts=pulumi.ResourceOptions(parent=parent),
    )


class FleetPki(pulumi.ComponentResource):
    """The hub's CA(s), its ingest server certificate, and the edges' certificates."""

    trust_bundle: pulumi.Output[str]
    """Every CA certificate the hub trusts (public PEMs, concatenated): edges verify the hub with it,
    the hub verifies client certificates with it (two CAs during a rotation)."""
    edge_certificates: dict[str, pulumi.Output[str]]
    """Edge name -> the certificate it is to use (public PEM), signed from its own request."""
    accepted_certificates: dict[str, list[pulumi.Output[str]]]
    """Edge name -> every certificate of it the hub currently holds (the one in `edge_certificates`,
    and during a CA change-over the current CA's one the edge may still present): what an
    allow-list of writers admits. An edge missing from the hub's list is missing here."""
    server_secret_name: pulumi.Output[str]
    """kubernetes.io/tls Secret of the ingest server certificate (tls.crt, tls.key, ca.crt)."""

    def __init__(self, name: str, args: FleetPkiArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(PKI_TYPE, name, None, opts)
        pki = args.settings
        regime = args.regime.value

        # Names carry the CA's name: a rotation adds the next CA beside the current one.
        self.cas: dict[str, tuple[tls.PrivateKey, tls.SelfSignedCert]] = {
            ca: self._ca(f"{name}-ca-{ca}", ca, args) for ca in pki.trusted_cas
        }
        self.trust_bundle = pulumi.Output.all(*[cert.cert_pem for _, cert in self.cas.values()]).apply("".join)
        self.server_key = private_key(f"{name}-server-key", self)
        server_request = tls.CertRequest(
            f"{name}-server-csr",
            private_key_pem=self.server_key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=args.hosts[0], organization=identity.ORGANIZATION),
            dns_names=list(args.hosts),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.server_cert = self._sign(f"{name}-server-cert", server_request.cert_request_pem, pki.ca, SERVER_USES, pki)

        # Names carry the edge name, never a position: adding an edge adds only its own resources.
        self.edge_certs: dict[str, dict[str, tls.LocallySignedCert]] = {}
        for edge, request in args.requests.items():
            checked = pulumi.Output.from_input(request.pem).apply(
                lambda pem, edge=edge, stack=request.stack: identity.check_request(pem, regime, edge, stack)
            )
            self.edge_certs[edge] = {
                ca: self._sign(f"{name}-edge-{edge}-{ca}-cert", checked, ca, CLIENT_USES, pki) for ca in pki.edge_issuers
            }
        self.edge_certificates = {edge: certs[pki.edge_issuer].cert_pem for edge, certs in self.edge_certs.items()}
        self.accepted_certificates = {
            edge: [certs[ca].cert_pem for ca in pki.edge_issuers] for edge, certs in self.edge_certs.items()
        }

        self.server_secret = tls_secret(
            f"{name}-server-secret",
            SERVER_SECRET,
            args.namespace,
            self.server_cert.cert_pem,
            self.server_key.private_key_pem,
            self.trust_bundle,
            parent=self,
        )
        self.server_secret_name = self.server_secret.metadata.name
        self.register_outputs(
            {
                "trustBundle": self.trust_bundle,
                "edgeCertificates": self.edge_certificates,
                "serverSecretName": self.server_secret_name,
            }
        )

    def _ca(self, prefix: str, ca: str, args: FleetPkiArgs) -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
        key = private_key(f"{prefix}-key", self)
        cert = tls.SelfSignedCert(
            f"{prefix}-cert",
            private_key_pem=key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(
                common_name=f"{args.cluster} fleet CA {ca}",
                organization=identity.ORGANIZATION,
                organizational_unit=args.regime.value,
            ),
            is_ca_certificate=True,
            allowed_uses=CA_USES,
            validity_period_hours=args.settings.ca_validity_days * 24,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return key, cert

    def _sign(
        self, name: str, request_pem: pulumi.Input[str], ca: str, uses: list[str], pki: PkiSettings
    ) -> tls.LocallySignedCert:
        """A certificate for `request_pem` signed by CA `ca`; the hub, not the request, decides uses and validity."""
        ca_key, ca_cert = self.cas[ca]
        return tls.LocallySignedCert(
            name,
            cert_request_pem=request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca_cert.cert_pem,
            allowed_uses=uses,
            validity_period_hours=pki.cert_validity_days * 24,
            early_renewal_hours=pki.early_renewal_days * 24,
            opts=pulumi.ResourceOptions(parent=self),
        )


@dataclass(frozen=True)
class EdgeTls:
    """What an edge needs, besides its key, for its client Secret."""

    certificate: pulumi.Input[str]
    """The hub's certificate for this edge (its `edgeCertificates` entry)."""
    trust_bundle: pulumi.Input[str]
    """The hub's `caCert`: the CAs that sign the hub's server certificate."""
    hub_stack: str
    """The hub's stack, named when the certificate is not for this key."""
    namespace: pulumi.Input[str]
    """Namespace of the Secret (the agents' namespace)."""


@dataclass(frozen=True)
class EdgeIdentityArgs:
    regime: Regime
    cluster: str
    tls: Optional[EdgeTls] = None
    """None while the hub holds no certificate for this edge: only the key and request exist."""


class EdgeIdentity(pulumi.ComponentResource):
    """The edge's own key and certificate request; with the hub's certificate, its client Secret
    (kubernetes.io/tls: tls.crt, tls.key, ca.crt)."""

    certificate_request: pulumi.Output[str]
    """Public PEM the hub signs (the edge stack's `certificateRequest` output)."""
    secret_name: Optional[pulumi.Output[str]]

    def __init__(self, name: str, args: EdgeIdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(EDGE_TYPE, name, None, opts)
        self.key = private_key(f"{name}-key", self)
        self.request = client_request(f"{name}-csr", self.key, args.regime.value, args.cluster, self)
        self.certificate_request = self.request.cert_request_pem
        self.secret: Optional[k8s.core.v1.Secret] = None
        self.secret_name = None
        if args.tls is not None:
            edge_tls = args.tls
            certificate = pulumi.Output.all(edge_tls.certificate, self.key.public_key_pem).apply(
                lambda v: identity.check_certificate(v[0], v[1], args.cluster, edge_tls.hub_stack)
            )
            self.secret = tls_secret(
                f"{name}-secret", EDGE_SECRET, edge_tls.namespace, certificate, self.key.private_key_pem,
                edge_tls.trust_bundle, parent=self,
            )
            self.secret_name = self.secret.metadata.name
        self.register_outputs({"certificateRequest": self.certificate_request, "secretName": self.secret_name})
