"""Helm charts the fleet deploys, pinned (name, version, repository), and how a release is declared.

The tests render each release with the pinned chart from a local chart cache and check every key
we set against the chart's values.yaml (docs/charts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import yaml


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    repo: str


PROMETHEUS_COMMUNITY = "https://prometheus-community.github.io/helm-charts"
GRAFANA_COMMUNITY = "https://grafana-community.github.io/helm-charts"

KUBE_PROMETHEUS_STACK = Chart("kube-prometheus-stack", "88.5.3", PROMETHEUS_COMMUNITY)
MIMIR_DISTRIBUTED = Chart("mimir-distributed", "6.0.4", "https://grafana.github.io/helm-charts")
TEMPO = Chart("tempo", "2.2.4", GRAFANA_COMMUNITY)
TEMPO_DISTRIBUTED = Chart("tempo-distributed", "3.3.0", GRAFANA_COMMUNITY)
LOKI = Chart("loki", "18.11.0", GRAFANA_COMMUNITY)
GRAFANA = Chart("grafana", "12.11.1", GRAFANA_COMMUNITY)
EXTERNAL_DNS = Chart("external-dns", "1.21.1", "https://kubernetes-sigs.github.io/external-dns/")
OPENTELEMETRY_COLLECTOR = Chart(
    "opentelemetry-collector", "0.170.0", "https://open-telemetry.github.io/opentelemetry-helm-charts"
)
CILIUM = Chart("cilium", "1.20.0", "https://helm.cilium.io/")
VICTORIA_METRICS_AGENT = Chart("victoria-metrics-agent", "0.46.0", "https://victoriametrics.github.io/helm-charts/")
STRIMZI_KAFKA_OPERATOR = Chart("strimzi-kafka-operator", "1.2.0", "https://strimzi.io/charts/")


def nested(paths: Iterable[str], leaf: Any) -> dict[str, Any]:
    """Values setting `leaf` at each dotted key path (`ingester.persistentVolume.storageClass`)."""
    tree: dict[str, Any] = {}
    for path in paths:
        *parents, last = path.split(".")
        node = tree
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = leaf
    return tree


def deleted_defaults(paths: Sequence[str]) -> str:
    """A values file removing the chart defaults at `paths` (dotted): Helm deletes a key set to null."""
    return yaml.safe_dump(nested(paths, None), sort_keys=True)


def release(
    name: str,
    chart: Chart,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    parent: pulumi.Resource,
    depends_on: Optional[Sequence[pulumi.Resource]] = None,
    delete: Sequence[str] = (),
) -> k8s.helm.v3.Release:
    """A Helm release of a pinned chart. Values must hold no secret: secrets go in Kubernetes
    Secrets that the values reference by name.

    `delete`: dotted paths of chart defaults to remove. Python's SDK drops None map values before
    they reach the engine (pulumi/pulumi#12178), so the nulls go in a values file, which the
    provider (>= 4.30) passes to Helm with its nulls and merges under `values`."""
    return k8s.helm.v3.Release(
        name,
        chart=chart.name,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
        namespace=namespace,
        values=values,
        value_yaml_files=[pulumi.StringAsset(deleted_defaults(delete))] if delete else None,
        atomic=True,
        cleanup_on_fail=True,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on or [])),
    )
