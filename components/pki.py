"""The fleet's PKI: one CA per hub, the hub's ingest server certificate, one client certificate per edge.

Onboarding is hub-driven: listing an edge in the hub's `obsfleet:edges` issues its certificate, and
the edge picks it up from the hub's secret `edgeCredentials` output through its StackReference
(`EdgeCredentials`). Nobody copies PEM files.

Rotation: leaf certificates carry `early_renewal_hours`; a hub `pulumi up` inside that window
replaces a certificate (pulumi-tls marks it ready for renewal), and the old one stays valid until
its real expiry, which leaves the edges the whole window to run their own `pulumi up`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from components.regions import Regime
from components.settings import PkiSettings

PKI_TYPE = "obsfleet:index:FleetPki"
EDGE_TYPE = "obsfleet:index:EdgeCredentials"

ORGANIZATION = "obsfleet"
KEY_ALGORITHM = "ECDSA"
KEY_CURVE = "P256"
# The CA signs certificates and nothing else: the fleet publishes no CRLs (a leaf is retired by
# re-issuing it), so cRLSign would be a capability nobody uses.
CA_USES = ["cert_signing"]
# ECDSA keys only sign (the TLS handshake): keyEncipherment is for RSA key transport (RFC 5480 §3).
SERVER_USES = ["server_auth", "digital_signature"]
CLIENT_USES = ["client_auth", "digital_signature"]

# Keys of the kubernetes.io/tls Secrets (the type fixes tls.crt/tls.key; ca.crt is the usual extra).
TLS_CERT = "tls.crt"
TLS_KEY = "tls.key"
CA_CERT = "ca.crt"
SERVER_SECRET = "obsfleet-ingest-tls"
CA_SECRET = "obsfleet-fleet-ca"
EDGE_SECRET = "obsfleet-hub-client-tls"


def edge_uri(regime: Regime, cluster: str) -> str:
    """The URI SAN naming an edge's identity: its jurisdiction and cluster."""
    return f"obsfleet://{regime.value}/{cluster}"


@dataclass(frozen=True)
class FleetPkiArgs:
    regime: Regime
    """The hub's regime: part of every edge identity (URI SAN)."""
    cluster: str
    """The hub's cluster name (names the CA)."""
    hosts: Sequence[str]
    """Ingest hostnames the server certificate covers (`IngestEndpoints.hosts`)."""
    edges: Sequence[str]
    """Edge cluster names (`HubSettings.edges[].name`): one client certificate each."""
    settings: PkiSettings
    """Validity and early-renewal periods."""
    namespace: pulumi.Input[str]
    """Namespace of the hub's Secrets."""
    readers: Mapping[str, str] = field(default_factory=dict)
    """Hub-internal client identities (common name -> name of its kubernetes.io/tls Secret): issued
    like an edge's, never exported."""


def tls_secret(
    resource_name: str,
    secret_name: str,
    namespace: pulumi.Input[str],
    cert: pulumi.Input[str],
    key: pulumi.Input[str],
    ca: pulumi.Input[str],
    parent: pulumi.Resource,
) -> k8s.core.v1.Secret:
    """A kubernetes.io/tls Secret with the CA; its `string_data` is secret as a whole, whatever its parts."""
    return k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=secret_name, namespace=namespace),
        type="kubernetes.io/tls",
        string_data=pulumi.Output.secret(pulumi.Output.all(**{TLS_CERT: cert, TLS_KEY: key, CA_CERT: ca})),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _key(name: str, parent: pulumi.Resource) -> tls.PrivateKey:
    return tls.PrivateKey(
        name, algorithm=KEY_ALGORITHM, ecdsa_curve=KEY_CURVE, opts=pulumi.ResourceOptions(parent=parent)
    )


class FleetPki(pulumi.ComponentResource):
    """The hub's CA, its ingest server certificate and its edges' client certificates (pulumi-tls)."""

    ca_cert: pulumi.Output[str]
    """The CA certificate (public PEM): edges trust the hub with it, the hub verifies edges with it."""
    trust_bundle: pulumi.Output[str]
    """Every CA certificate the hub trusts (public PEMs, concatenated): what verifies a client certificate."""
    edge_certificates: dict[str, pulumi.Output[str]]
    """Edge name -> its client certificate (public PEM): the front door admits exactly these."""
    edge_credentials: pulumi.Output[dict[str, dict[str, str]]]
    """Secret map: edge name -> {"cert": PEM, "key": PEM}."""
    server_secret_name: pulumi.Output[str]
    """kubernetes.io/tls Secret of the ingest server certificate (tls.crt, tls.key, ca.crt)."""
    ca_secret_name: pulumi.Output[str]
    """Secret holding only ca.crt, for components that verify clients but must not read the server key."""

    def __init__(self, name: str, args: FleetPkiArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(PKI_TYPE, name, None, opts)
        pki = args.settings

        self.ca_key = _key(f"{name}-ca-key", self)
        self.ca = tls.SelfSignedCert(
            f"{name}-ca-cert",
            private_key_pem=self.ca_key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(
                common_name=f"{args.cluster} fleet CA",
                organization=ORGANIZATION,
                organizational_unit=args.regime.value,
            ),
            is_ca_certificate=True,
            allowed_uses=CA_USES,
            validity_period_hours=pki.ca_validity_days * 24,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.server_key = _key(f"{name}-server-key", self)
        self.server_cert = self._leaf(
            f"{name}-server",
            self.server_key,
            tls.CertRequestSubjectArgs(common_name=args.hosts[0], organization=ORGANIZATION),
            SERVER_USES,
            pki,
            dns_names=list(args.hosts),
        )
        # Names carry the edge name, never a position: adding an edge adds only its own resources.
        self.edge_keys: dict[str, tls.PrivateKey] = {}
        self.edge_certs: dict[str, tls.LocallySignedCert] = {}
        for edge in args.edges:
            self.edge_keys[edge], self.edge_certs[edge] = self._client(f"{name}-edge-{edge}", edge, args)
        self.reader_certs: dict[str, tls.LocallySignedCert] = {}
        self.reader_secrets: dict[str, k8s.core.v1.Secret] = {}
        for reader, secret_name in args.readers.items():
            key, self.reader_certs[reader] = self._client(f"{name}-reader-{reader}", reader, args)
            self.reader_secrets[reader] = tls_secret(
                f"{name}-reader-{reader}-secret",
                secret_name,
                args.namespace,
                self.reader_certs[reader].cert_pem,
                key.private_key_pem,
                self.ca.cert_pem,
                parent=self,
            )

        self.server_secret = tls_secret(
            f"{name}-server-secret",
            SERVER_SECRET,
            args.namespace,
            self.server_cert.cert_pem,
            self.server_key.private_key_pem,
            self.ca.cert_pem,
            parent=self,
        )
        self.ca_secret = k8s.core.v1.Secret(
            f"{name}-ca-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CA_SECRET, namespace=args.namespace),
            type="Opaque",
            string_data={CA_CERT: self.ca.cert_pem},
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.ca_cert = self.ca.cert_pem
        self.trust_bundle = self.ca.cert_pem
        self.edge_certificates = {edge: cert.cert_pem for edge, cert in self.edge_certs.items()}
        self.edge_credentials = pulumi.Output.secret(
            pulumi.Output.all(
                **{
                    edge: pulumi.Output.all(cert=self.edge_certs[edge].cert_pem, key=self.edge_keys[edge].private_key_pem)
                    for edge in args.edges
                }
            )
        )
        self.server_secret_name = self.server_secret.metadata.name
        self.ca_secret_name = self.ca_secret.metadata.name
        self.register_outputs(
            {
                "caCert": self.ca_cert,
                "edgeCredentials": self.edge_credentials,
                "serverSecretName": self.server_secret_name,
                "caSecretName": self.ca_secret_name,
            }
        )

    def _client(self, prefix: str, common_name: str, args: FleetPkiArgs) -> tuple[tls.PrivateKey, tls.LocallySignedCert]:
        """A client identity of this jurisdiction: CN = cluster, URI SAN obsfleet://<regime>/<cluster>."""
        key = _key(f"{prefix}-key", self)
        cert = self._leaf(
            prefix,
            key,
            tls.CertRequestSubjectArgs(common_name=common_name, organization=ORGANIZATION, organizational_unit=args.regime.value),
            CLIENT_USES,
            args.settings,
            uris=[edge_uri(args.regime, common_name)],
        )
        return key, cert

    def _leaf(
        self,
        prefix: str,
        key: tls.PrivateKey,
        subject: tls.CertRequestSubjectArgs,
        uses: list[str],
        pki: PkiSettings,
        **names: Any,
    ) -> tls.LocallySignedCert:
        """A certificate signed by this CA for `key`; `names` are the request's SANs."""
        request = tls.CertRequest(
            f"{prefix}-csr",
            private_key_pem=key.private_key_pem,
            subject=subject,
            opts=pulumi.ResourceOptions(parent=self),
            **names,
        )
        return tls.LocallySignedCert(
            f"{prefix}-cert",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=self.ca_key.private_key_pem,
            ca_cert_pem=self.ca.cert_pem,
            allowed_uses=uses,
            validity_period_hours=pki.cert_validity_days * 24,
            early_renewal_hours=pki.early_renewal_days * 24,
            opts=pulumi.ResourceOptions(parent=self),
        )


class MissingEdgeCredentials(pulumi.RunError):
    """The hub issued no certificate for this edge: it is not listed in the hub's `obsfleet:edges`."""


@dataclass(frozen=True)
class EdgeCredentialsArgs:
    cluster: str
    """This edge's cluster name: its key in the hub's `edgeCredentials`."""
    hub_stack: str
    """The hub's stack (`obsfleet:hubStack`), named in the error when the hub has no certificate for us."""
    ca_cert: pulumi.Input[str]
    """The hub's `caCert` output."""
    edge_credentials: pulumi.Input[Mapping[str, Mapping[str, str]]]
    """The hub's secret `edgeCredentials` output."""
    namespace: pulumi.Input[str]
    """Namespace of the Secret (the agent's and collector's namespace)."""


def select_credentials(credentials: Mapping[str, Mapping[str, str]], cluster: str, hub_stack: str) -> Mapping[str, str]:
    """This cluster's {"cert", "key"} from the hub's map, or a clear error naming the fix."""
    if cluster not in (credentials or {}):
        stack = hub_stack.split("/")[-1]
        raise MissingEdgeCredentials(
            f"hub has no certificate for cluster '{cluster}': add it to obsfleet:edges of stack {stack}"
        )
    return credentials[cluster]


class EdgeCredentials(pulumi.ComponentResource):
    """The edge's client credentials, read from its hub, as a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt)."""

    secret_name: pulumi.Output[str]

    def __init__(self, name: str, args: EdgeCredentialsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(EDGE_TYPE, name, None, opts)
        mine = pulumi.Output.from_input(args.edge_credentials).apply(
            lambda credentials: select_credentials(credentials, args.cluster, args.hub_stack)
        )
        self.secret = tls_secret(
            f"{name}-secret", EDGE_SECRET, args.namespace, mine["cert"], mine["key"], args.ca_cert, parent=self
        )
        self.secret_name = self.secret.metadata.name
        self.register_outputs({"secretName": self.secret_name})
