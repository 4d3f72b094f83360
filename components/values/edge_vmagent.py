"""victoria-metrics-agent values for an edge with `agent: vmagent`, and what kube-prometheus-stack
keeps on such an edge.

vmagent scrapes the cluster (components/vmagent_jobs.py) and remote-writes to the hub over mTLS
with the edge's certificate, mounted from its kubernetes.io/tls Secret; unsent samples wait in
its file-backed queue on a volume sized by components/vmagent_sizing.py. A StatefulSet, so the
queue's volume follows the pod through restarts and reschedules.
"""

from __future__ import annotations

from typing import Any

from components.pki import CA_CERT, TLS_CERT, TLS_KEY
from components.prometheus_tls import TlsFiles
from components.settings import EdgeSettings
from components.values.common import secret_volume, tls_mount
from components.vmagent_config import global_flags, remote_write, scrape_config
from components.vmagent_jobs import cluster_jobs
from components.vmagent_sizing import VmagentSizing

TLS_DIR = "/etc/vmagent/hub-tls"
TLS_VOLUME = "hub-client-tls"


def chart_tls_files() -> TlsFiles:
    """Where the pod finds the edge's Secret keys."""
    return TlsFiles(f"{TLS_DIR}/{CA_CERT}", f"{TLS_DIR}/{TLS_CERT}", f"{TLS_DIR}/{TLS_KEY}")


def vmagent_values(settings: EdgeSettings, sizing: VmagentSizing, remote_write_url: str, tls_secret: str) -> dict[str, Any]:
    residency = {"data-residency": settings.regime.value}
    volume: dict[str, Any] = {"enabled": True, "size": f"{sizing.volume_gib}Gi"}
    if settings.kubernetes.storage_class is not None:
        volume["storageClassName"] = settings.kubernetes.storage_class
    return {
        "mode": "statefulSet",
        "replicaCount": 1,
        "extraLabels": residency,
        "podLabels": residency,
        "remoteWrite": [remote_write(settings, sizing, remote_write_url, chart_tls_files())],
        # Merged over the chart's own extraArgs (envflag, JSON logs).
        "extraArgs": global_flags(settings, sizing),
        "config": scrape_config(settings, cluster_jobs(settings.kubernetes.namespace)),
        "persistentVolume": volume,
        "resources": sizing.resources.kubernetes(),
        "extraVolumes": [secret_volume(TLS_VOLUME, tls_secret)],
        "extraVolumeMounts": [tls_mount(TLS_VOLUME, TLS_DIR)],
    }


def exporters_only_values(settings: EdgeSettings) -> dict[str, Any]:
    """kube-prometheus-stack on a vmagent edge: kube-state-metrics and node-exporter only.

    No Prometheus, operator, Alertmanager or Grafana, and no ServiceMonitors nobody reads: vmagent
    finds these exporters itself. The chart still installs the monitoring.coreos.com CRDs, so
    releases that ship a ServiceMonitor keep installing (their targets go unscraped; see
    components/vmagent_jobs.py)."""
    no_monitor = {"prometheus": {"monitor": {"enabled": False}}}
    return {
        "commonLabels": {"data-residency": settings.regime.value},
        "defaultRules": {"create": False},
        "alertmanager": {"enabled": False},
        "grafana": {"enabled": False},
        "prometheus": {"enabled": False},
        "prometheusOperator": {"enabled": False},
        "kubeApiServer": {"enabled": False},
        "kubelet": {"enabled": False},
        "coreDns": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeStateMetrics": {"enabled": True},
        "nodeExporter": {"enabled": True},
        "kube-state-metrics": no_monitor,
        "prometheus-node-exporter": no_monitor,
    }
