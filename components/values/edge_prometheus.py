"""kube-prometheus-stack values for an edge: a Prometheus agent remote-writing to its hub over mTLS."""

from __future__ import annotations

from typing import Any

from components import edge_wal_guard
from components.edge_sizing import EdgeSizing, duration
from components.settings import EdgeSettings
from components.pki import CA_CERT, TLS_CERT, TLS_KEY
from components.values.edge_common import external_labels, tenant_headers
from components.values.storage_class import claim_template

REMOTE_WRITE_NAME = "hub"
"""Queue name in the agent's `prometheus_remote_storage_*{remote_name=...}` metrics."""


def remote_write(settings: EdgeSettings, sizing: EdgeSizing, url: str, tls_secret: str) -> dict[str, Any]:
    """prometheus-operator RemoteWriteSpec: the client certificate, key and hub CA come from the
    edge's TLS Secret by reference (the operator mounts them), never inline."""
    return {
        "name": REMOTE_WRITE_NAME,
        "url": url,
        "headers": tenant_headers(settings),
        "tlsConfig": {
            "ca": {"secret": {"name": tls_secret, "key": CA_CERT}},
            "cert": {"secret": {"name": tls_secret, "key": TLS_CERT}},
            "keySecret": {"name": tls_secret, "key": TLS_KEY},
        },
        "queueConfig": sizing.queue.operator(),
    }


HA_REPLICA_LABEL = "__replica__"
"""Mimir's default `ha_replica_label`: the HA tracker elects by it and drops it before storage."""


def _replicas(settings: EdgeSettings) -> dict[str, Any]:
    """One agent, its series labelled only with the edge's identity; or an HA pair on two nodes,
    each pod labelling its series with its name under `HA_REPLICA_LABEL` for the hub to deduplicate."""
    if settings.agent_replicas == 1:
        return {"replicas": 1, "replicaExternalLabelNameClear": True}
    return {
        "replicas": settings.agent_replicas,
        "replicaExternalLabelName": HA_REPLICA_LABEL,
        "podAntiAffinity": "hard",
    }


def wal_args(sizing: EdgeSizing) -> list[dict[str, str]]:
    """The agent's WAL flags the operator has no field for (PrometheusAgent `additionalArgs`)."""
    return [
        {"name": "storage.agent.retention.max-time", "value": sizing.wal_retention},
        {"name": "storage.agent.wal-truncate-frequency", "value": sizing.wal_truncate_frequency},
    ]


AGENT_STORAGE_DIR = "/prometheus"
AGENT_STORAGE_SUB_PATH = "prometheus-db"
"""Where prometheus-operator mounts a PrometheusAgent's claim (`--storage.agent.path`) and the
sub-path of the claim it mounts there."""
AGENT_VOLUME = 'prom-agent-{{ include "kube-prometheus-stack.prometheus.crname" . }}-db'
"""The operator's name for the agent's storage volume (`prom-agent-<resource>-db`); the chart
renders `initContainers` through `tpl`, which fills in the resource's name."""


def wal_guard() -> dict[str, Any]:
    """The init container freeing a WAL volume too full for the agent to start (components/edge_wal_guard.py)."""
    return edge_wal_guard.init_container(AGENT_VOLUME, AGENT_STORAGE_DIR, AGENT_STORAGE_SUB_PATH)


def kube_prometheus_stack_values(
    settings: EdgeSettings, sizing: EdgeSizing, remote_write_url: str, tls_secret: str
) -> dict[str, Any]:
    """Agent mode (a PrometheusAgent resource): scrape, buffer in the WAL, ship. No local TSDB,
    rules, Alertmanager or Grafana on the edge: the hub evaluates and shows everything."""
    return {
        "commonLabels": {"data-residency": settings.regime.value},
        "defaultRules": {"create": False},
        "alertmanager": {"enabled": False},
        "grafana": {"enabled": False},
        # Scrape targets the agent ships: node and object state.
        "kubeStateMetrics": {"enabled": True},
        "nodeExporter": {"enabled": True},
        # Managed control planes (EKS, GKE) do not expose these; they would only report up == 0.
        "kubeEtcd": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "prometheus": {
            "agentMode": True,
            "prometheusSpec": {
                "scrapeInterval": duration(settings.scrape_interval_seconds),
                "externalLabels": external_labels(settings),
                # Otherwise the operator adds `prometheus` (namespace/name) to every series sent.
                "prometheusExternalLabelNameClear": True,
                **_replicas(settings),
                "remoteWrite": [remote_write(settings, sizing, remote_write_url, tls_secret)],
                # Unsent samples survive a hub outage of bufferHours: no truncation in between
                # deletes a segment remote write has not read (components/edge_sizing.py, step 8).
                "additionalArgs": wal_args(sizing),
                "walCompression": True,
                # Rendered into prometheus.yml's `runtime.gogc` (Prometheus >= 2.53): less heap
                # headroom between collections, sized for in components/edge_sizing.py.
                "runtime": {"goGC": sizing.go_gc},
                "resources": sizing.resources.kubernetes(),
                "storageSpec": claim_template(sizing.wal_volume_gib, settings.kubernetes.storage_class),
                # A restart on a full WAL volume would fail to open the WAL, again and again.
                "initContainers": [wal_guard()],
                # Pick up every monitor in the cluster (the collector's PodMonitor included), not
                # only those labelled with this release's auto-generated name.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "probeSelectorNilUsesHelmValues": False,
                "scrapeConfigSelectorNilUsesHelmValues": False,
            },
        },
    }
