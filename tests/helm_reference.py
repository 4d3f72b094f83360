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

    A path in `free_form` (dotted, e.g. "prometheus.prometheusSpec.additionalArgs") is a map or
    list the chart passes through as-is: nothing under it is checked. Lists of objects are
    checked element-wise against the reference list's first element when it has one.
    """
    free = set(free_form)
    missing: list[str] = []

    def walk(ours: Any, theirs: Any, path: str) -> None:
        if path in free or not isinstance(ours, dict):
            return
        if not isinstance(theirs, dict):
            # The chart documents this key as a scalar/null/empty map: sub-keys are the chart's business
            # only if the reference shows an (empty) map we may fill.
            if theirs in ({}, None) and path:
                return
            missing.append(path)
            return
        for key, value in ours.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in theirs:
                if sub not in free:
                    missing.append(sub)
                continue
            walk(value, theirs[key], sub)

    walk(values, reference_values(chart), "")
    return missing
