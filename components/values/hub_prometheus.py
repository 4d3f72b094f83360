"""kube-prometheus-stack values for the hub: the fleet's Prometheus (or Mimir's meta-monitor) and Alertmanager.

Prometheus tier: Prometheus is the remote-write receiver and verifies each edge's client
certificate itself. prometheus-operator points the kubelet probes at the web port
(prometheus-operator#5419: kubelet cannot present a client certificate) and reloads through it,
so: the operator reloads by signal, and a small nginx "probe bridge" in the pod answers the
kubelet on a plain port by asking Prometheus `/-/ready` and `/-/healthy` over mTLS with the hub's
reader certificate; it forwards nothing else. Probes stay truthful; the web port has no
unauthenticated path. The config-reloader serves its metrics with this same web config (the
operator passes it `--web-config-file`); the chart's ServiceMonitor scrapes both endpoints with
the scheme and reader TLS set below.
Open point: after each SIGHUP the reloader confirms the reload at
`https://localhost:9090/api/v1/status/runtimeinfo` without a client certificate (the operator
gives it none), which this listener refuses: the reload happens, but expect the chart's
`ConfigReloaderSidecarErrors` until the operator can hand the reloader a client identity.

Mimir tier: this Prometheus only watches the hub (Mimir, Tempo, Loki) and evaluates the hub
rules; the fleet's data and rules live in Mimir.
"""

from __future__ import annotations

from typing import Any, Sequence

from components.hub_availability import Component, component_labels, placement, spread
from components.hub_sizing import GIB, ReceiverSizing
from components.meta_rules import Group
from components.pki import CA_CERT, TLS_CERT, TLS_KEY
from components.settings import HubSettings, Tier
from components.values.common import secret_volume, tls_mount
from components.values.hub_common import PROMETHEUS_STACK, HubTls, ingest_labels, merge, secret_key
from components.values.storage_class import claim_template

WEB_PORT = 9090
PROBE_PORT = 9095
PROBE_BRIDGE_IMAGE = "nginxinc/nginx-unprivileged:1.27.5-alpine"
READER_VOLUME = "reader-tls"
READER_DIR = "/etc/obsfleet/reader"
PROBE_BRIDGE_VOLUME = "probe-bridge"
PROBE_BRIDGE_KEY = "nginx.conf"
RULES_NAME = "obsfleet-meta"
META_MONITOR_DISK_GIB = 20
"""Mimir tier: the hub's own series only (tens of thousands); not sized from the edges."""
ALERTMANAGER_PORT = 9093
ALERTMANAGER_PEER_TIMEOUT = "15s"
"""How long a cluster peer waits for the one before it to notify (Alertmanager's default, set so the
failover delay is a decision): a notification is late by at most this when a peer is gone."""


def prometheus_service() -> str:
    return f"{PROMETHEUS_STACK}-prometheus"


def alertmanager_service() -> str:
    return f"{PROMETHEUS_STACK}-alertmanager"


def hub_labels(settings: HubSettings) -> dict[str, str]:
    """External labels of the hub's own series and alerts (edges' series keep their own)."""
    return {"cluster": settings.cluster, "region": settings.region, "regime": settings.regime.value}


def probe_bridge_config(metrics_host: str) -> str:
    """nginx.conf of the probe bridge: two read-only paths, forwarded over mTLS, nothing else."""
    return (
        "pid /tmp/nginx.pid;\n"
        "events {}\n"
        "http {\n"
        "  client_body_temp_path /tmp/client_temp;\n"
        "  proxy_temp_path /tmp/proxy_temp;\n"
        "  fastcgi_temp_path /tmp/fastcgi_temp;\n"
        "  uwsgi_temp_path /tmp/uwsgi_temp;\n"
        "  scgi_temp_path /tmp/scgi_temp;\n"
        "  access_log off;\n"
        "  server {\n"
        f"    listen {PROBE_PORT};\n"
        "    location ~ ^/-/(ready|healthy)$ {\n"
        "      limit_except GET { deny all; }\n"
        f"      proxy_pass https://127.0.0.1:{WEB_PORT};\n"
        f"      proxy_ssl_certificate {READER_DIR}/{TLS_CERT};\n"
        f"      proxy_ssl_certificate_key {READER_DIR}/{TLS_KEY};\n"
        f"      proxy_ssl_trusted_certificate {READER_DIR}/{CA_CERT};\n"
        "      proxy_ssl_verify on;\n"
        "      proxy_ssl_server_name on;\n"
        f"      proxy_ssl_name {metrics_host};\n"
        "    }\n"
        "    location / {\n"
        "      return 404;\n"
        "    }\n"
        "  }\n"
        "}\n"
    )


def _probe(path: str) -> dict[str, Any]:
    # A strategic-merge patch of the operator's probe: same path, plain HTTP, the bridge's port.
    return {"httpGet": {"path": path, "port": PROBE_PORT, "scheme": "HTTP"}}


def _reader_tls(tls: HubTls, server_name: str) -> dict[str, Any]:
    """prometheus-operator SafeTLSConfig presenting the hub's reader certificate."""
    return {
        "ca": {"secret": secret_key(tls.reader_secret, CA_CERT)},
        "cert": {"secret": secret_key(tls.reader_secret, TLS_CERT)},
        "keySecret": secret_key(tls.reader_secret, TLS_KEY),
        "serverName": server_name,
    }


def _receiver_spec(sizing: ReceiverSizing, tls: HubTls, metrics_host: str, bridge_config_map: str) -> dict[str, Any]:
    return {
        "enableRemoteWriteReceiver": True,
        # Edges replaying a WAL backlog older than the head's ~1 h appendable window.
        "tsdb": {"outOfOrderTimeWindow": sizing.out_of_order_window},
        "retentionSize": f"{sizing.retention_size_bytes // GIB}GiB",
        "resources": sizing.resources.helm(),
        "web": {
            "tlsConfig": {
                "cert": {"secret": secret_key(tls.server_secret, TLS_CERT)},
                "keySecret": secret_key(tls.server_secret, TLS_KEY),
                "client_ca": {"secret": secret_key(tls.ca_secret, CA_CERT)},
                "clientAuthType": "RequireAndVerifyClientCert",
                "minVersion": "TLS12",
            }
        },
        "reloadStrategy": "ProcessSignal",
        "podMetadata": {"labels": ingest_labels("metrics")},
        "containers": [
            {
                "name": "prometheus",
                "startupProbe": _probe("/-/ready"),
                "readinessProbe": _probe("/-/ready"),
                "livenessProbe": _probe("/-/healthy"),
            },
            {
                "name": "probe-bridge",
                "image": PROBE_BRIDGE_IMAGE,
                "ports": [{"name": "probe", "containerPort": PROBE_PORT}],
                "volumeMounts": [
                    tls_mount(READER_VOLUME, READER_DIR),
                    {
                        "name": PROBE_BRIDGE_VOLUME,
                        "mountPath": f"/etc/nginx/{PROBE_BRIDGE_KEY}",
                        "subPath": PROBE_BRIDGE_KEY,
                        "readOnly": True,
                    },
                ],
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
            },
        ],
        "volumes": [
            secret_volume(READER_VOLUME, tls.reader_secret),
            {"name": PROBE_BRIDGE_VOLUME, "configMap": {"name": bridge_config_map}},
        ],
    }


def _placed_spec(settings: HubSettings, component: Component) -> dict[str, Any]:
    """prometheus-operator spec fields placing `component` as the availability plan says."""
    return {
        "replicas": placement(settings.tier, component).replicas,
        "podMetadata": {"labels": component_labels(component)},
        "topologySpreadConstraints": spread(settings.tier, component),
    }


def _budget(settings: HubSettings, component: Component) -> dict[str, Any]:
    """The chart's PodDisruptionBudget, which takes `minAvailable`."""
    plan = placement(settings.tier, component)
    return {"enabled": plan.disruption_budget, "minAvailable": plan.min_available}


def prometheus_stack_values(
    settings: HubSettings,
    sizing: ReceiverSizing | None,
    rule_groups: Sequence[Group],
    alertmanager_secret: str,
    tls: HubTls,
    metrics_host: str,
    bridge_config_map: str,
) -> dict[str, Any]:
    """Values for the hub's kube-prometheus-stack release; `sizing` is None in the Mimir tier."""
    receiver = settings.tier is Tier.PROMETHEUS
    if receiver and sizing is None:
        raise ValueError("the Prometheus tier needs the receiver's sizing")
    spec: dict[str, Any] = {
        "externalLabels": hub_labels(settings),
        "retention": f"{settings.retention.metrics}d",
        "storageSpec": claim_template(
            sizing.disk_gib if receiver and sizing else META_MONITOR_DISK_GIB, settings.kubernetes.storage_class
        ),
        # Select the ServiceMonitors and rules of the other hub releases too, not only this one's.
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
    }
    if receiver and sizing is not None:
        spec = merge(spec, _receiver_spec(sizing, tls, metrics_host, bridge_config_map))
    prometheus: dict[str, Any] = {
        "prometheusSpec": merge(spec, _placed_spec(settings, Component.RECEIVER)),
        "podDisruptionBudget": _budget(settings, Component.RECEIVER),
    }
    if receiver:
        # Its own /metrics is behind mTLS too: scrape it with the reader certificate.
        prometheus["serviceMonitor"] = {"scheme": "https", "tlsConfig": _reader_tls(tls, metrics_host)}
    return {
        "fullnameOverride": PROMETHEUS_STACK,
        "commonLabels": {"data-residency": settings.regime.value},
        # Grafana is its own release (components/values/hub_grafana.py).
        "grafana": {"enabled": False},
        "alertmanager": {
            "alertmanagerSpec": {
                # The config holds receiver URLs and keys: a Secret the program writes, not values.
                "useExistingSecret": True,
                "configSecret": alertmanager_secret,
                # The operator peers the replicas (`--cluster.peer` per pod of the StatefulSet).
                "clusterPeerTimeout": ALERTMANAGER_PEER_TIMEOUT,
                **_placed_spec(settings, Component.ALERTMANAGER),
            },
            "podDisruptionBudget": _budget(settings, Component.ALERTMANAGER),
        },
        "prometheus": prometheus,
        "additionalPrometheusRulesMap": {RULES_NAME: {"groups": list(rule_groups)}},
    }

