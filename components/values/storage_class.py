"""The StorageClass the charts' volume claims name (`obsfleet:kubernetes.storageClass`).

Each chart takes the class under keys of its own; these build the fragment for each shape. Unset,
they add nothing: the claims name no class and the cluster's default StorageClass applies.
"""

from __future__ import annotations

from typing import Any, Optional

from components.charts import nested


def claim_template(gib: int, storage_class: Optional[str]) -> dict[str, Any]:
    """A prometheus-operator StorageSpec: one ReadWriteOnce claim of `gib` GiB per replica."""
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{gib}Gi"}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"volumeClaimTemplate": {"spec": spec}}


def storage_class_at(storage_class: Optional[str], *paths: str) -> dict[str, Any]:
    """Values setting the class at each dotted key path (`ingester.persistentVolume.storageClass`)."""
    if storage_class is None:
        return {}
    return nested(paths, storage_class)
