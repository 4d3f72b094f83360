"""opentelemetry-collector values for an edge: OTLP traces and pod logs to the hub's Tempo and Loki."""

from __future__ import annotations

import math
from typing import Any

from components.edge_sizing import duration
from components.settings import Agent, EdgeSettings
from components.pki import CA_CERT, TLS_CERT, TLS_KEY
from components.values.common import secret_volume, tls_mount
from components.values.edge_common import tenant_headers

IMAGE = "otel/opentelemetry-collector-k8s"
"""The Kubernetes distribution: filelog, k8sattributes, file_storage and otlphttp are all in it."""
TLS_DIR = "/etc/obsfleet/tls"
TLS_VOLUME = "hub-client-tls"
QUEUE_DIR = "/var/lib/otelcol"
"""The chart's hostPath for `presets.logsCollection.storeCheckpoints`: file offsets and the
exporters' persistent queues both survive a collector restart on the node."""
BATCH_TIMEOUT_SECONDS = 5
"""Fewer, larger requests over the WAN (the same reasoning as the agent's batch_send_deadline)."""
CERT_RELOAD_SECONDS = 3600
"""The collector reads its client certificate once unless told to reload it: after a rotation
(components/pki.py) the kubelet updates the mounted Secret, and the exporters pick the new
certificate up within this period, long before the old one expires (the early-renewal window)."""
PIPELINE_PROCESSORS = ["memory_limiter", "k8sattributes", "resource", "batch"]

# Components the enabled presets add to the config (opentelemetry-collector templates/_config.tpl):
# logsCollection defines receivers.filelog (and extensions.file_storage with storeCheckpoints),
# kubernetesAttributes defines processors.k8sattributes. Listing them in a pipeline is enough.
PRESET_COMPONENTS: dict[str, frozenset[str]] = {
    "receivers": frozenset({"filelog"}),
    "processors": frozenset({"k8sattributes"}),
    "exporters": frozenset(),
    "extensions": frozenset({"file_storage"}),
}

# No measurements exist yet for trace/log volume per node: modest fixed resources, with the
# memory limiter and GOMEMLIMIT (chart default) derived from the limit.
RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}


def _exporter(settings: EdgeSettings, endpoint: str) -> dict[str, Any]:
    """OTLP/HTTP to the hub with the edge's client certificate, queued on disk for hub outages."""
    buffer_seconds = settings.buffer_hours * 3600
    return {
        "endpoint": endpoint,
        "tls": {
            "ca_file": f"{TLS_DIR}/{CA_CERT}",
            "cert_file": f"{TLS_DIR}/{TLS_CERT}",
            "key_file": f"{TLS_DIR}/{TLS_KEY}",
            "min_version": "1.2",
            "reload_interval": duration(CERT_RELOAD_SECONDS),
        },
        "headers": tenant_headers(settings),
        "sending_queue": {
            "enabled": True,
            "storage": "file_storage",
            # One batch per batch timeout for the whole outage window; beyond that the pipeline
            # blocks (receivers push back, filelog stops at its checkpoint) instead of dropping.
            "queue_size": math.ceil(buffer_seconds / BATCH_TIMEOUT_SECONDS),
            "block_on_overflow": True,
        },
        # Give up only after the same window the metrics WAL covers; retry fast once the hub is back.
        "retry_on_failure": {
            "enabled": True,
            "initial_interval": "1s",
            "max_interval": "5s",
            "max_elapsed_time": duration(buffer_seconds),
        },
    }


def collector_config(settings: EdgeSettings, otlp_endpoint: str, loki_push_url: str) -> dict[str, Any]:
    """The collector's whole config. Span and trace ids, parent ids and links pass through
    untouched (no processor here rewrites or drops them), so W3C trace context stays intact."""
    resource = [
        {"key": "k8s.cluster.name", "value": settings.cluster, "action": "upsert"},
        {"key": "cloud.provider", "value": settings.cloud.value, "action": "upsert"},
        {"key": "cloud.region", "value": settings.region, "action": "upsert"},
        {"key": "regime", "value": settings.regime.value, "action": "upsert"},
    ]
    return {
        "extensions": {
            # Required by the chart's liveness/readiness probes.
            "health_check": {"endpoint": "${env:MY_POD_IP}:13133"},
            "file_storage": {"directory": QUEUE_DIR},
        },
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": "${env:MY_POD_IP}:4317"},
                    "http": {"endpoint": "${env:MY_POD_IP}:4318"},
                }
            },
        },
        "processors": {
            "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25},
            "resource": {"attributes": resource},
            "batch": {"timeout": duration(BATCH_TIMEOUT_SECONDS)},
        },
        "exporters": {
            "otlphttp/tempo": _exporter(settings, otlp_endpoint),
            "otlphttp/loki": _exporter(settings, loki_push_url),
        },
        "service": {
            "extensions": ["health_check", "file_storage"],
            "telemetry": {
                "metrics": {
                    "readers": [{"pull": {"exporter": {"prometheus": {"host": "${env:MY_POD_IP}", "port": 8888}}}}]
                }
            },
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": PIPELINE_PROCESSORS, "exporters": ["otlphttp/tempo"]},
                "logs": {
                    "receivers": ["otlp", "filelog"],
                    "processors": PIPELINE_PROCESSORS,
                    "exporters": ["otlphttp/loki"],
                },
            },
        },
    }


def collector_values(settings: EdgeSettings, otlp_endpoint: str, loki_push_url: str, tls_secret: str) -> dict[str, Any]:
    """A DaemonSet (pod logs are per node) receiving OTLP on every node's host ports.

    `alternateConfig`, not `config`: `config` is deep-merged with the chart's defaults (jaeger,
    zipkin and prometheus receivers, a debug-exporting metrics pipeline), which values cannot
    reliably delete; `alternateConfig` replaces it whole and the presets still apply to it.
    """
    return {
        "mode": "daemonset",
        "image": {"repository": IMAGE},
        "presets": {
            "logsCollection": {"enabled": True, "storeCheckpoints": True},
            "kubernetesAttributes": {"enabled": True},
        },
        "alternateConfig": collector_config(settings, otlp_endpoint, loki_push_url),
        "ports": {
            "jaeger-compact": {"enabled": False},
            "jaeger-thrift": {"enabled": False},
            "jaeger-grpc": {"enabled": False},
            "zipkin": {"enabled": False},
            "metrics": {"enabled": True},
        },
        # The edge's agent scrapes the collector (queue size, send failures) and ships it to the hub:
        # the Prometheus agent through this PodMonitor, vmagent through its own discovery
        # (components/vmagent_jobs.py), which reads no PodMonitor.
        "podMonitor": {"enabled": settings.agent is Agent.PROMETHEUS},
        "extraVolumes": [secret_volume(TLS_VOLUME, tls_secret)],
        "extraVolumeMounts": [tls_mount(TLS_VOLUME, TLS_DIR)],
        "resources": RESOURCES,
        "podLabels": {"data-residency": settings.regime.value},
    }
