"""mimir-distributed values: the scale tier's metrics store, one tenant per edge cluster.

Blocks go to the hardened bucket (components/storage, purpose `metrics`) through the pods'
workload identity. The edges' remote write reaches the distributors only through the hub's mTLS
front door (components/front_door_config.py), which sets the tenant from the client certificate. The fleet rules
(remote-write health, judged per tenant: components/meta_rules.py) run in Mimir's ruler as one
federated group over every edge tenant, loaded from a ConfigMap (local ruler storage: rules are
declared by the program, not posted to an API), and alert through the hub's Alertmanager.
Mimir's own Alertmanager is off.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from components.hub_availability import ZONE, Component, component_labels
from components.hub_plan import MIMIR_PUSH_PATH, HubPlan
from components.hub_sizing import out_of_order_window, tenant_limits
from components.regions import Cloud
from components.settings import EdgeRef, HaTracker
from components.storage import ObjectStore, s3_endpoint, service_account_values
from components.values.hub_common import MIMIR, merge, placed, retention_period
from components.values.storage_class import storage_class_at

HTTP_PORT = 8080
"""Mimir's HTTP port (the distributors take pushes on it)."""
PUSH_PATHS = (MIMIR_PUSH_PATH, "/otlp/v1/metrics")
MAX_PUSH_BODY = "540M"
"""The gateway's body limit (the chart's default, set explicitly); the front door accepts as much."""
RULES_DIR = "/etc/obsfleet/rules"
RULES_TENANT = "obsfleet-meta"
"""The ruler tenant owning the federated fleet group (its recorded results live there)."""
RULES_VOLUME = "fleet-rules"
GATEWAY_SERVICE = f"{MIMIR}-gateway"
DISTRIBUTOR_SERVICE = f"{MIMIR}-distributor"
STORAGE_CLASS_KEYS = (
    "ingester.persistentVolume.storageClass",
    "store_gateway.persistentVolume.storageClass",
    "compactor.persistentVolume.storageClass",
    "kafka.persistence.storageClassName",
)
"""Every component that claims a volume (zone-aware StatefulSets fall back to these; Mimir's own
Alertmanager is off). The chart has no chart-wide class."""
ZONE_AWARE = {"enabled": True, "topologyKey": ZONE}
"""Ingesters and store-gateways in the chart's three zones, each a replica of every series (the
ring's replication factor 3, Mimir's default), and anti-affine by the node's zone: no two of them
share a cloud zone, so losing a zone loses one replica. Needs a cluster with three zones
(components/hub_availability.py)."""


def query_url(namespace: str) -> str:
    """Prometheus-compatible query API through the gateway (in-cluster, plain)."""
    return f"http://{GATEWAY_SERVICE}.{namespace}.svc.cluster.local/prometheus"


def _common_storage(store: ObjectStore) -> dict[str, Any]:
    if store.cloud is Cloud.AWS:
        s3 = {"bucket_name": store.bucket, "endpoint": s3_endpoint(store.region), "region": store.region}
        return {"backend": "s3", "s3": s3}
    return {"backend": "gcs", "gcs": {"bucket_name": store.bucket}}


def _tenant_overrides(edges: Sequence[EdgeRef]) -> dict[str, Any]:
    overrides = {}
    for edge in edges:
        limits = tenant_limits(edge)
        overrides[edge.name] = {
            "max_global_series_per_user": limits.max_global_series,
            "ingestion_rate": limits.ingestion_rate,
            # Each tenant accepts the replay of its own edge's WAL buffer.
            "out_of_order_time_window": out_of_order_window(edge.buffer_hours),
        }
        if edge.agent_replicas > 1:
            # An HA pair: the tracker accepts one replica per `cluster` (the edge's external label)
            # and drops the other's samples; the replica label (`__replica__`, Mimir's default,
            # which the edge sets per pod) is removed before storage.
            overrides[edge.name]["accept_ha_samples"] = True
    return {"overrides": overrides}


def _ha_tracker(tracker: Optional[HaTracker]) -> dict[str, Any]:
    """The distributors' HA tracker, on the store the hub names (settings refuse pairs without one)."""
    if tracker is None:
        return {}
    if tracker.store == "etcd":
        kvstore: dict[str, Any] = {"store": "etcd", "etcd": {"endpoints": list(tracker.endpoints)}}
    else:
        kvstore = {"store": "consul", "consul": {"host": tracker.endpoints[0]}}
    return {"distributor": {"ha_tracker": {"enable_ha_tracker": True, "kvstore": kvstore}}}


def mimir_values(plan: HubPlan, store: ObjectStore, alertmanager_url: str, rules_config_map: str) -> dict[str, Any]:
    settings, sizing = plan.settings, plan.mimir_sizing
    if sizing is None:
        raise ValueError("mimir_values: the hub's plan runs no Mimir")
    structured = {
        "multitenancy_enabled": True,
        # Fleet-wide Grafana queries (`edge-a|edge-b`) and the federated rule group.
        "tenant_federation": {"enabled": True},
        "common": {"storage": _common_storage(store)},
        "blocks_storage": {"storage_prefix": "blocks"},
        "ruler_storage": {"backend": "local", "local": {"directory": RULES_DIR}},
        "ruler": {"alertmanager_url": alertmanager_url, "tenant_federation": {"enabled": True}},
        "limits": {
            "out_of_order_time_window": sizing.out_of_order_window,
            "compactor_blocks_retention_period": retention_period(settings.retention.metrics),
        },
        **_ha_tracker(settings.scale.ha_tracker),
    }
    values = {
        "fullnameOverride": MIMIR,
        "minio": {"enabled": False},
        "alertmanager": {"enabled": False},
        "mimir": {"structuredConfig": structured},
        "runtimeConfig": _tenant_overrides(settings.edges),
        "distributor": {
            "replicas": sizing.distributors,
            "resources": sizing.distributor.helm(),
            "podLabels": component_labels(Component.MIMIR_DISTRIBUTOR),
            "topologySpreadConstraints": plan.availability.spread(Component.MIMIR_DISTRIBUTOR),
        },
        "ingester": {
            "replicas": sizing.ingesters,
            "resources": sizing.ingester.helm(),
            "persistentVolume": {"size": f"{sizing.ingester_disk_gib}Gi"},
            "zoneAwareReplication": ZONE_AWARE,
        },
        "store_gateway": {"zoneAwareReplication": ZONE_AWARE},
        "ruler": {
            "extraVolumes": [{"name": RULES_VOLUME, "configMap": {"name": rules_config_map}}],
            "extraVolumeMounts": [
                {"name": RULES_VOLUME, "mountPath": f"{RULES_DIR}/{RULES_TENANT}", "readOnly": True}
            ],
        },
        "gateway": {
            **placed(plan.availability, Component.MIMIR_GATEWAY),
            "nginx": {"config": {"clientMaxBodySize": MAX_PUSH_BODY}},
        },
        "metaMonitoring": {"serviceMonitor": {"enabled": True}},
    }
    claims = storage_class_at(settings.kubernetes.storage_class, *STORAGE_CLASS_KEYS)
    return merge(values, claims, service_account_values(store))

