"""kube-prometheus-stack values for the hub: the fleet's Prometheus (or Mimir's meta-monitor) and Alertmanager.

Prometheus tier: Prometheus is the remote-write receiver, on its plain web port inside the cluster.
Edges reach it only through the hub's mTLS front door (components/front_door.py), which forwards
`/api/v1/write` and nothing else; a NetworkPolicy admits only the front door, Grafana and
Prometheus itself. So the kubelet probes, the config-reloader (which reloads and confirms the
reload on `localhost:9090`) and the self-scrape need no client certificate. This tier has no
tenants: every edge's series land in one TSDB, told apart only by their `cluster` label, which an
edge writes itself (no tenant isolation; the Mimir tier is the default for two or more edges).

Mimir tier: this Prometheus only watches the hub (Mimir, Tempo, Loki) and evaluates the hub
rules; the fleet's data and rules live in Mimir.
"""

from __future__ import annotations

from typing import Any, Sequence

from components.hub_availability import Availability, Component, component_labels
from components.hub_plan import HubPlan
from components.hub_sizing import GIB, ReceiverSizing
from components.meta_rules import Group
from components.settings import HubSettings
from components.values.hub_common import PROMETHEUS_STACK, merge, retention_period
from components.values.storage_class import claim_template

WEB_PORT = 9090
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


def _receiver_spec(sizing: ReceiverSizing) -> dict[str, Any]:
    return {
        "enableRemoteWriteReceiver": True,
        # Edges replaying a WAL backlog older than the head's ~1 h appendable window.
        "tsdb": {"outOfOrderTimeWindow": sizing.out_of_order_window},
        "retentionSize": f"{sizing.retention_size_bytes // GIB}GiB",
        "resources": sizing.resources.helm(),
    }


def _placed_spec(availability: Availability, component: Component) -> dict[str, Any]:
    """prometheus-operator spec fields placing `component` as the availability plan says."""
    return {
        "replicas": availability.placement(component).replicas,
        "podMetadata": {"labels": component_labels(component)},
        "topologySpreadConstraints": availability.spread(component),
    }


def _budget(availability: Availability, component: Component) -> dict[str, Any]:
    """The chart's PodDisruptionBudget, which takes `minAvailable`."""
    placement = availability.placement(component)
    return {"enabled": placement.disruption_budget, "minAvailable": placement.min_available}


def prometheus_stack_values(plan: HubPlan, rule_groups: Sequence[Group], alertmanager_secret: str) -> dict[str, Any]:
    """Values for the hub's kube-prometheus-stack release: the edges' receiver when the plan sizes
    one, else the hub's meta-monitor."""
    settings, sizing, availability = plan.settings, plan.receiver_sizing, plan.availability
    spec: dict[str, Any] = {
        "externalLabels": hub_labels(settings),
        "retention": retention_period(settings.retention.metrics, "d"),
        "storageSpec": claim_template(
            sizing.disk_gib if sizing else META_MONITOR_DISK_GIB, settings.kubernetes.storage_class
        ),
        # Select the ServiceMonitors and rules of the other hub releases too, not only this one's.
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
    }
    if sizing is not None:
        spec = merge(spec, _receiver_spec(sizing))
    prometheus: dict[str, Any] = {
        "prometheusSpec": merge(spec, _placed_spec(availability, Component.RECEIVER)),
        "podDisruptionBudget": _budget(availability, Component.RECEIVER),
    }
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
                **_placed_spec(availability, Component.ALERTMANAGER),
            },
            "podDisruptionBudget": _budget(availability, Component.ALERTMANAGER),
        },
        "prometheus": prometheus,
        "additionalPrometheusRulesMap": {RULES_NAME: {"groups": list(rule_groups)}},
    }

