"""The hub's mTLS ingest front door as nginx configuration: pure functions, rendered for a pod or a lab.

Every byte an edge sends enters through this nginx (components/front_door.py declares it); the
backends behind it speak plain HTTP inside the cluster and admit nobody else (NetworkPolicies).
Per request it enforces, in this order:

1. TLS: the client certificate must chain to the trust bundle (the hub's CA, old and new during
   a rotation) and be valid for client authentication (OpenSSL checks the `sslclient` purpose, so
   a certificate whose extended key usage lacks clientAuth fails verification). Any failure is
   answered 403 (nginx's own 495/496 would be 400).
2. Identity: the certificate's SHA-1 fingerprint must be in the allow-list (`tenants.map`) of the
   certificates the hub issued to the edges it lists. Nothing else maps to a tenant: not the hub's
   other identities, not a certificate signed some other way, not an edge since removed from the
   hub's `edges` (revocation: the list is rendered from the edges at each hub `pulumi up`).
3. Path: only the signal's write paths, POST only, are forwarded; every query, read, federate,
   admin or status path is 403. An edge identity can write, never read. nginx matches the
   normalised path (`/a/../b`, `//b`, `%2F` decoded) and the backend gets exactly the write path
   it matched, without the query string: never a target it could resolve otherwise.
4. Tenant: `X-Scope-OrgID` is set to the tenant the certificate maps to, replacing any value the
   edge sent; Mimir, Loki and Tempo store the data under it. No other header of the edge's
   reaches a backend except the few its write protocol needs (`FORWARDED_HEADERS`): none can
   switch a backend's behaviour (Mimir's `X-Mimir-SkipLabelNameValidation`, forwarded-client
   headers).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Mapping, Sequence

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from components.values.common import TENANT_HEADER

CONFIG_FILE = "nginx.conf"
TENANTS_FILE = "tenants.map"
TRUST_BUNDLE_FILE = "trust-bundle.pem"
SERVER_CERT_FILE = "tls.crt"
SERVER_KEY_FILE = "tls.key"
TENANT_VARIABLE = "$obsfleet_tenant"
REFUSED = 403
FORWARDED_HEADERS = (
    ("Content-Type", "$content_type"),
    ("Content-Encoding", "$http_content_encoding"),
    ("User-Agent", "$http_user_agent"),
    ("X-Prometheus-Remote-Write-Version", "$http_x_prometheus_remote_write_version"),
)
"""The request headers a backend gets from an edge: what remote write, Loki push and OTLP/HTTP
need to decode a body, besides the tenant the front door sets. nginx adds Host and
Content-Length itself, and leaves out a header whose value is empty."""


@dataclass(frozen=True)
class Route:
    """One signal's way in: a TLS listener forwarding its write paths to one backend."""

    signal: str
    """`metrics`, `traces` or `logs`: also the ingest Service it serves."""
    port: int
    """Where the front door listens for it."""
    paths: tuple[str, ...]
    """Write paths forwarded (exact match, POST only)."""
    upstream: str
    """`host:port` of the backend's plain HTTP listener."""
    max_body: str
    """nginx size: the largest request the backend accepts, so the front door never refuses less."""


@dataclass(frozen=True)
class Layout:
    """Where the running nginx finds its files and may write: a pod's paths, or a lab's directory."""

    config_dir: str
    """Holds `tenants.map` and `trust-bundle.pem` (the front door's ConfigMap)."""
    tls_dir: str
    """Holds the hub's ingest server certificate and key (`tls.crt`, `tls.key`)."""
    runtime_dir: str
    """Writable: pid file and request-body buffers."""
    listen_host: str = ""
    """Address to bind; empty binds every address (a pod)."""


def fingerprint(cert_pem: str) -> str:
    """nginx's `$ssl_client_fingerprint` of a certificate: SHA-1 of its DER, lowercase hex."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return hashlib.sha1(cert.public_bytes(Encoding.DER)).hexdigest()  # noqa: S324 - nginx's choice, an identifier


def tenants_map(certificates: Mapping[str, Sequence[str]]) -> str:
    """The allow-list: one `fingerprint tenant;` line per edge certificate (tenant -> its PEMs: two
    during a CA change-over), sorted."""
    lines = sorted(f"{fingerprint(pem)} {tenant};" for tenant, pems in certificates.items() for pem in pems)
    return "".join(f"{line}\n" for line in lines)


def _location(path: str, upstream: str) -> str:
    headers = "".join(f"      proxy_set_header {name} {value};\n" for name, value in FORWARDED_HEADERS)
    return (
        f"    location = {path} {{\n"
        f"      limit_except POST {{ deny all; }}\n"
        # nginx matched the normalised path; the backend gets it as matched, not the target sent.
        f"      rewrite ^ {path}? break;\n"
        "      proxy_pass_request_headers off;\n"
        f"      proxy_set_header {TENANT_HEADER} {TENANT_VARIABLE};\n"
        f"{headers}"
        f"      proxy_pass http://{upstream};\n"
        f"    }}\n"
    )


def _server(route: Route, layout: Layout) -> str:
    address = f"{layout.listen_host}:{route.port}" if layout.listen_host else str(route.port)
    locations = "".join(_location(path, route.upstream) for path in route.paths)
    return (
        "  server {\n"
        f"    # {route.signal}\n"
        f"    listen {address} ssl;\n"
        f"    ssl_certificate {layout.tls_dir}/{SERVER_CERT_FILE};\n"
        f"    ssl_certificate_key {layout.tls_dir}/{SERVER_KEY_FILE};\n"
        f"    ssl_client_certificate {layout.config_dir}/{TRUST_BUNDLE_FILE};\n"
        "    ssl_verify_client on;\n"
        "    ssl_verify_depth 1;\n"
        "    ssl_protocols TLSv1.2 TLSv1.3;\n"
        f"    client_max_body_size {route.max_body};\n"
        # 495: certificate failed verification, 496: none sent.
        f"    error_page 495 496 ={REFUSED} @refused;\n"
        f'    if ({TENANT_VARIABLE} = "") {{\n'
        f"      return {REFUSED};\n"
        "    }\n"
        f"{locations}"
        "    location / {\n"
        f"      return {REFUSED};\n"
        "    }\n"
        "    location @refused {\n"
        f"      return {REFUSED};\n"
        "    }\n"
        "  }\n"
    )


def nginx_conf(routes: Sequence[Route], layout: Layout) -> str:
    """The front door's whole nginx.conf (run with `-g 'daemon off;'`), one TLS server per route."""
    if not routes:
        raise ValueError("the front door needs at least one route")
    ports = [r.port for r in routes]
    if len(set(ports)) != len(ports):
        raise ValueError(f"front door routes share a port: {sorted(ports)}")
    run = layout.runtime_dir
    temp_paths = "".join(
        f"  {kind}_temp_path {run}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"pid {run}/nginx.pid;\n"
        "error_log stderr warn;\n"
        "events {}\n"
        "http {\n"
        f"{temp_paths}"
        # Who (tenant, certificate, verification result: SUCCESS, NONE or FAILED:<reason>) did what.
        "  log_format ingest '$remote_addr tenant=\"$obsfleet_tenant\" fingerprint=$ssl_client_fingerprint '\n"
        "                    'verify=\"$ssl_client_verify\" \"$request\" $status $request_length $request_time';\n"
        "  access_log /dev/stdout ingest;\n"
        "  server_tokens off;\n"
        f"  map $ssl_client_fingerprint {TENANT_VARIABLE} {{\n"
        '    default "";\n'
        f"    include {layout.config_dir}/{TENANTS_FILE};\n"
        "  }\n"
        f"{''.join(_server(route, layout) for route in routes)}"
        "}\n"
    )
