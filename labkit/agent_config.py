"""The edge agent's effective prometheus.yml: what prometheus-operator generates from our values.

The operator turns the PrometheusAgent resource (kube-prometheus-stack values from
components/values/edge_prometheus.py) into a prometheus.yml; this renders the parts we decide
(global external labels, remote_write with its queue, TLS files and tenant header) plus a scrape
of the agent itself, from the same functions, so `promtool check config` and a lab agent run
exactly what the cluster would.
"""

from __future__ import annotations

from typing import Any, Optional

from components.edge_sizing import EdgeSizing, duration
from components.pki import CA_CERT, TLS_CERT, TLS_KEY
from components.prometheus_tls import TlsFiles, remote_write, to_yaml
from components.settings import EdgeSettings
from components.values.edge_common import external_labels, tenant_headers
from components.values.edge_prometheus import REMOTE_WRITE_NAME

OPERATOR_TLS_DIR = "/etc/prometheus/certs"
SELF_JOB = "prometheus-agent"


def operator_tls_files(namespace: str, secret: str) -> TlsFiles:
    """Where prometheus-operator (v0.93) mounts the Secret keys a tlsConfig references:
    `<certs dir>/<source>_<namespace>_<name>_<key>`, source 0 being a Secret."""
    ca, cert, key = (f"{OPERATOR_TLS_DIR}/0_{namespace}_{secret}_{name}" for name in (CA_CERT, TLS_CERT, TLS_KEY))
    return TlsFiles(ca, cert, key)


def agent_config(
    settings: EdgeSettings,
    sizing: EdgeSizing,
    remote_write_url: str,
    tls: TlsFiles,
    *,
    self_target: str = "localhost:9090",
    address: Optional[str] = None,
) -> dict[str, Any]:
    """prometheus.yml as a dict: the agent scrapes itself and remote-writes to the hub.

    `address` (host:port) reaches the hub somewhere else than its URL's host (a lab on loopback).
    """
    entry = remote_write(remote_write_url, tls, address=address, headers=tenant_headers(settings))
    entry.update(name=REMOTE_WRITE_NAME, queue_config=sizing.queue.prometheus())
    return {
        "global": {
            "scrape_interval": duration(settings.scrape_interval_seconds),
            "external_labels": external_labels(settings),
        },
        "scrape_configs": [{"job_name": SELF_JOB, "static_configs": [{"targets": [self_target]}]}],
        "remote_write": [entry],
    }


def agent_flags(sizing: EdgeSizing, config_file: str, storage_path: str) -> list[str]:
    """Command-line flags of a 2.x agent running this config (the operator sets the same ones)."""
    return [
        "--enable-feature=agent",
        f"--config.file={config_file}",
        f"--storage.agent.path={storage_path}",
        f"--storage.agent.retention.max-time={sizing.wal_retention}",
        f"--storage.agent.wal-truncate-frequency={sizing.wal_truncate_frequency}",
    ]


def agent_environment(sizing: EdgeSizing) -> dict[str, str]:
    """Environment of a 2.x agent running this config: before 2.53 Prometheus has no `runtime`
    config block, so the GC target the operator renders from `runtime.goGC` goes in as GOGC, which
    the Go runtime (and Prometheus >= 2.53, when the config leaves it unset) reads alike."""
    return {"GOGC": str(sizing.go_gc)}


def render(settings: EdgeSettings, sizing: EdgeSizing, remote_write_url: str, tls: TlsFiles, **kwargs: Any) -> str:
    """prometheus.yml text (see `agent_config`)."""
    return to_yaml(agent_config(settings, sizing, remote_write_url, tls, **kwargs))
