"""Loki values: logs per edge tenant (`auth_enabled`), in their own hardened bucket.

Retention is enforced by the compactor (the bucket's lifecycle is only the backstop), globally
and per tenant through the runtime config, which Loki reloads without a restart: that is where a
single cluster's retention is shortened. The deletion API is on (`filter-and-delete`): a GDPR
erasure is a delete request for one tenant, e.g.
`curl -X POST -H 'X-Scope-OrgID: edge-eu' '<loki>/loki/api/v1/delete?query={service_name="shop"}&start=...'`,
executed by the compactor. Edges push OTLP to Loki only through the hub's mTLS front door
(components/front_door_config.py), which sets the tenant from the client certificate.
"""

from __future__ import annotations

from typing import Any, Mapping

from components.regions import Cloud
from components.hub_availability import Component
from components.hub_plan import HubPlan
from components.values.hub_common import LOKI, merge, placed, retention_period
from components.values.storage_class import storage_class_at

HTTP_PORT = 3100
"""Loki's HTTP port: the monolithic `loki` Service, where the front door pushes."""
PUSH_PATHS = ("/otlp/v1/logs", "/loki/api/v1/push")
MAX_PUSH_BODY = "4M"
"""The gateway's body limit (the chart's default, set explicitly); the front door accepts as much."""
SCHEMA_FROM = "2024-04-01"
SCALABLE_TARGETS = ("read", "write", "backend")
STORAGE_CLASS_KEYS = ("singleBinary.persistence.storageClass",)
"""Monolithic: the single binary is the only target that claims a volume (the caches keep to memory)."""


def gateway_url(namespace: str) -> str:
    """In-cluster read/write entry (the chart's own routing), for Grafana."""
    return f"http://{LOKI}-gateway.{namespace}.svc.cluster.local"


def loki_values(plan: HubPlan, storage: Mapping[str, Any]) -> dict[str, Any]:
    """`storage` is the backend's `loki_storage()` fragment."""
    settings = plan.settings
    store = "s3" if settings.cloud is Cloud.AWS else "gcs"
    retention = retention_period(settings.retention.logs)
    # Monolithic, replication factor = replicas (components/hub_availability.py): every replica
    # holds every stream. Not sized from measurements: we have none for logs.
    single = placed(plan.availability, Component.LOKI, budget_switch=True)
    replicas = single["replicas"]
    own = {
        "fullnameOverride": LOKI,
        "deploymentMode": "Monolithic",
        "loki": {
            "auth_enabled": True,
            "commonConfig": {"replication_factor": replicas},
            "schemaConfig": {
                "configs": [
                    {
                        "from": SCHEMA_FROM,
                        "store": "tsdb",
                        "object_store": store,
                        "schema": "v13",
                        "index": {"prefix": "loki_index_", "period": "24h"},
                    }
                ]
            },
            "limits_config": {
                "retention_period": retention,
                "deletion_mode": "filter-and-delete",
                # OTLP resource attributes that are not labels land here.
                "allow_structured_metadata": True,
            },
            "compactor": {"retention_enabled": True, "delete_request_store": store},
            "runtimeConfig": {"overrides": {e.name: {"retention_period": retention} for e in settings.edges}},
            # Fleet-wide queries (`edge-a|edge-b`).
            "querier": {"multi_tenant_queries_enabled": True},
        },
        "singleBinary": single,
        "chunksCache": {"allocatedMemory": plan.loki_chunks_cache_mb},
        # The simple-scalable targets default to 3 replicas whatever the deployment mode, and the
        # chart's validate.yaml refuses monolithic and simple-scalable replicas together.
        **{target: {"replicas": 0} for target in SCALABLE_TARGETS},
        "gateway": {
            **placed(plan.availability, Component.LOKI_GATEWAY, budget_switch=True),
            "nginxConfig": {"clientMaxBodySize": MAX_PUSH_BODY},
        },
        "monitoring": {"serviceMonitor": {"enabled": True}},
        # The canary (and the chart test that needs it) would write a tenant of its own; ingestion
        # is watched through Loki's metrics instead (components/meta_rules.py).
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
    }
    return merge(own, storage_class_at(settings.kubernetes.storage_class, *STORAGE_CLASS_KEYS), storage)
