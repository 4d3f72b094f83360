"""Checks Helm values we build against the chart's own values.yaml (../shared/reference)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from components.charts import Chart

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "helm-charts"


@lru_cache(maxsize=None)
def reference_values(chart: Chart) -> dict[str, Any]:
    path = REFERENCE / f"{chart.name}-{chart.version}" / "values.yaml"
    return yaml.safe_load(path.read_text())


def unknown_keys(chart: Chart, values: dict[str, Any], free_form: Iterable[str] = ()) -> list[str]:
    """Key paths set in `values` that the chart's values.yaml does not have.

    Every map is checked key by key at every depth, including maps the reference documents only
    as `{}` or null (`prometheusSpec.storageSpec: {}`): their sub-keys are reported unless the
    path is in `free_form` (dotted, e.g. "prometheus.prometheusSpec.storageSpec"), the maps and
    lists the chart passes through as-is. Lists are not looked into: values.yaml rarely shows an
    element to compare with.
    """
    free = set(free_form)
    missing: list[str] = []

    def walk(ours: Any, theirs: Any, path: str) -> None:
        if path in free or not isinstance(ours, dict):
            return
        for key, value in ours.items():
            sub = f"{path}.{key}" if path else str(key)
            if sub in free:
                continue
            if not isinstance(theirs, dict) or key not in theirs:
                missing.append(sub)
                continue
            walk(value, theirs[key], sub)

    walk(values, reference_values(chart), "")
    return missing


def coalesce(defaults: Any, *layers: Any) -> Any:
    """Values as Helm coalesces them, later layers over earlier: maps merge key by key, a key set
    to None (`null`) deletes the default, anything else replaces."""
    result = defaults
    for layer in layers:
        result = _coalesce(result, layer)
    return result


def _coalesce(base: Any, layer: Any) -> Any:
    if not (isinstance(base, dict) and isinstance(layer, dict)):
        return layer
    merged = dict(base)
    for key, value in layer.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _coalesce(base.get(key), value)
    return merged
