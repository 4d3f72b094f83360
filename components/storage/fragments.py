"""Helm values fragments that point a chart at its bucket, with no credentials in them.

A chart reaches the bucket through its pods' ServiceAccount, annotated with the cloud identity
the account assumes (IRSA on EKS, Workload Identity on GKE); the fragments carry the bucket,
region and that annotation only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from components.charts import TEMPO, TEMPO_DISTRIBUTED, Chart
from components.regions import Cloud
from components.storage.identity import SA_ANNOTATION


@dataclass(frozen=True)
class ObjectStore:
    """What a chart needs to reach the bucket: where it is and which cloud identity pods assume."""

    cloud: Cloud
    bucket: str
    region: str
    service_account: str
    identity: str
    """IAM role ARN (IRSA) or Google service account email (Workload Identity)."""


def s3_endpoint(region: str) -> str:
    """S3's regional endpoint host; also the service name KMS sees when S3 uses a key there."""
    return f"s3.{region}.amazonaws.com"


def service_account_values(store: ObjectStore) -> dict[str, Any]:
    """The chart's ServiceAccount, named as the cloud trust expects and annotated with the identity."""
    return {
        "serviceAccount": {
            "create": True,
            "name": store.service_account,
            "annotations": {SA_ANNOTATION[store.cloud]: store.identity},
        }
    }


def _tempo_trace_backend(store: ObjectStore) -> dict[str, Any]:
    if store.cloud is Cloud.AWS:
        s3 = {"bucket": store.bucket, "endpoint": s3_endpoint(store.region), "region": store.region}
        return {"backend": "s3", "s3": s3}
    return {"backend": "gcs", "gcs": {"bucket_name": store.bucket}}


def tempo_storage_root(chart: Chart) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Where the chart reads Tempo's `storage` block: `tempo.storage` (tempo) or `storage` (tempo-distributed)."""
    if chart == TEMPO:
        return lambda storage: {"tempo": storage}
    if chart == TEMPO_DISTRIBUTED:
        return lambda storage: storage
    raise ValueError(f"tempo_storage: chart {chart.name} {chart.version} is not {TEMPO.name} or {TEMPO_DISTRIBUTED.name}")


def tempo_storage_values(store: ObjectStore, chart: Chart = TEMPO) -> dict[str, Any]:
    """Storage fragment for the tempo or tempo-distributed chart."""
    root = tempo_storage_root(chart)
    return {**root({"storage": {"trace": _tempo_trace_backend(store)}}), **service_account_values(store)}


def loki_storage_values(store: ObjectStore) -> dict[str, Any]:
    """Storage fragment for the loki chart.

    Ruler rules are kept local (declared by the program, mounted from ConfigMaps), not in the
    bucket: its lifecycle would expire rules written through the ruler API after retention_days.
    """
    storage: dict[str, Any] = {"bucketNames": {"chunks": store.bucket}}
    if store.cloud is Cloud.AWS:
        storage.update(type="s3", s3={"region": store.region})
    else:
        storage.update(type="gcs")
    return {
        "loki": {"storage": storage, "rulerConfig": {"storage": {"type": "local"}}},
        **service_account_values(store),
    }
