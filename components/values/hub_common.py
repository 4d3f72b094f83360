"""What the hub's charts share: in-cluster names, TLS mounts, ingest pod labels, the mTLS front door.

Every hub release that others talk to sets `fullnameOverride`, so the in-cluster names one chart
uses to reach another (Grafana -> Prometheus, Mimir's ruler -> Alertmanager, Tempo -> Mimir's
Kafka) are fixed here, independent of the Helm release names Pulumi generates.

Ingest paths and who verifies the edge's client certificate (against the hub CA, at TLS level):
- metrics, Prometheus tier: Prometheus itself (`web.tlsConfig`, RequireAndVerifyClientCert), the
  same server the PKI lab checks with the certificates the program issues.
- metrics, Mimir tier, and logs: the chart's own nginx gateway gets a second server block, an mTLS
  front door (`ssl_verify_client on`) that forwards only the push paths to the gateway's plain
  listener and sets `X-Scope-OrgID` from the certificate's CN: an edge can only write as itself.
- traces: Tempo's OTLP receiver (`tls.client_ca_file`, which makes the collector-style receiver
  require and verify client certificates). Tempo takes the tenant from the header as sent.
Each is exposed by a LoadBalancer Service with TLS passthrough (components/hub.py), selecting the
pods by `INGEST_LABEL`, which the values below put on exactly the pods that terminate mTLS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from components.hub_availability import MAX_UNAVAILABLE, Component, component_labels, placement, spread
from components.pki import CA_CERT, TLS_CERT, TLS_KEY
from components.settings import Tier
from components.values.common import TENANT_HEADER, secret_volume, tls_mount

PROMETHEUS_STACK = "obsfleet"
MIMIR = "mimir"
TEMPO = "tempo"
LOKI = "loki"
EXTERNAL_DNS = "external-dns"

INGEST_LABEL = "obsfleet.io/ingest"
INGEST_TLS_DIR = "/etc/obsfleet/tls"
INGEST_TLS_VOLUME = "ingest-tls"
FRONT_DOOR_PORT = 8443
"""Where the nginx mTLS front door listens (Loki and Mimir gateways)."""


@dataclass(frozen=True)
class HubTls:
    """Secrets holding the hub's TLS material (components/pki.py; kubernetes.io/tls + ca.crt)."""

    server_secret: str
    """The ingest server certificate and key, and the fleet CA."""
    ca_secret: str
    """The fleet CA only."""
    reader_secret: str
    """The hub's own client certificate, for in-cluster readers of the mTLS-only Prometheus."""


def service_url(name: str, namespace: str, port: int, scheme: str = "http") -> str:
    return f"{scheme}://{name}.{namespace}.svc.cluster.local:{port}"


def hours(days: int) -> str:
    """A Go duration of whole days (Loki, Tempo and Mimir take hours, not days)."""
    return f"{days * 24}h"


def ingest_labels(signal: str) -> dict[str, str]:
    return {INGEST_LABEL: signal}


def secret_key(secret: str, key: str) -> dict[str, str]:
    return {"name": secret, "key": key}


def server_tls_files(directory: str = INGEST_TLS_DIR) -> dict[str, str]:
    """The server side of mTLS as file paths (collector-style `tls` block)."""
    return {
        "cert_file": f"{directory}/{TLS_CERT}",
        "key_file": f"{directory}/{TLS_KEY}",
        "client_ca_file": f"{directory}/{CA_CERT}",
        "min_version": "1.2",
    }


def tenant_list(tenants: Sequence[str]) -> str:
    """A multi-tenant query's tenant header: `a|b|c` (Mimir, Tempo and Loki federation)."""
    return "|".join(tenants)


def front_door(paths: Sequence[str], upstream_port: int, max_body: str) -> str:
    """An nginx `server` block (for the chart gateway's http snippet) terminating mTLS for `paths`.

    The client certificate must chain to the fleet CA; its CN (the edge's cluster name, see
    components/pki.py) becomes the tenant, replacing whatever header the client sent. Only the
    push paths are forwarded, to the gateway's own plain listener, so routing stays the chart's.
    `max_body` is that listener's `client_max_body_size`: without it this server would use
    nginx's 1m default and refuse (413) the large batches an edge sends when catching up.
    """
    locations = "\n".join(
        f"    location = {path} {{\n"
        f"      proxy_set_header {TENANT_HEADER} $obsfleet_tenant;\n"
        f"      proxy_pass http://127.0.0.1:{upstream_port};\n"
        f"    }}"
        for path in paths
    )
    return (
        "map $ssl_client_s_dn $obsfleet_tenant {\n"
        '  default "";\n'
        '  "~(?:^|,)CN=([^,]+)" $1;\n'
        "}\n"
        "server {\n"
        f"    listen {FRONT_DOOR_PORT} ssl;\n"
        f"    ssl_certificate {INGEST_TLS_DIR}/{TLS_CERT};\n"
        f"    ssl_certificate_key {INGEST_TLS_DIR}/{TLS_KEY};\n"
        f"    ssl_client_certificate {INGEST_TLS_DIR}/{CA_CERT};\n"
        "    ssl_verify_client on;\n"
        "    ssl_protocols TLSv1.2 TLSv1.3;\n"
        f"    client_max_body_size {max_body};\n"
        "    if ($obsfleet_tenant = \"\") {\n"
        "      return 403;\n"
        "    }\n"
        f"{locations}\n"
        "    location / {\n"
        "      return 404;\n"
        "    }\n"
        "}\n"
    )


def front_door_mounts(server_secret: str) -> dict[str, list[dict[str, Any]]]:
    """The gateway pod's volume and mount of the ingest server Secret."""
    return {
        "extraVolumes": [secret_volume(INGEST_TLS_VOLUME, server_secret)],
        "extraVolumeMounts": [tls_mount(INGEST_TLS_VOLUME, INGEST_TLS_DIR)],
    }


def merge(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge values fragments (later wins on scalars); fragments never set the same leaf twice."""
    result: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
                result[key] = merge(result[key], value)
            else:
                result[key] = value
    return result


def placed(tier: Tier, component: Component, *, budget_switch: bool = False) -> dict[str, Any]:
    """Replicas, pod label, spread and disruption budget of `component` (components/hub_availability.py)
    under the key names most charts share; `budget_switch`: the chart's budget has an `enabled` flag."""
    plan = placement(tier, component)
    budget: dict[str, Any] = {"maxUnavailable": MAX_UNAVAILABLE} if plan.disruption_budget else {}
    if budget_switch:
        budget = {"enabled": plan.disruption_budget, **budget}
    return {
        "replicas": plan.replicas,
        "podLabels": component_labels(component),
        "topologySpreadConstraints": spread(tier, component),
        "podDisruptionBudget": budget,
    }
