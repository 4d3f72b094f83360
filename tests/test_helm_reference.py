"""tests/helm_reference.unknown_keys: a misspelt key is reported at every depth, free-form paths are not."""

from __future__ import annotations

from typing import Any

import pytest

from components.charts import KUBE_PROMETHEUS_STACK
from tests.helm_reference import reference_values, unknown_keys


def nested(path: str, value: Any) -> dict[str, Any]:
    """{"a": {"b": value}} from "a.b"."""
    for key in reversed(path.split(".")):
        value = {key: value}
    return value


def test_the_reference_has_the_shapes_these_cases_rely_on() -> None:
    spec = reference_values(KUBE_PROMETHEUS_STACK)["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "10d" and spec["storageSpec"] == {} and spec["serviceName"] is None


@pytest.mark.parametrize(
    "path",
    [
        "prometheuss",  # top level
        "prometheus.prometheusSpc",  # a map inside a map
        "prometheus.prometheusSpec.retentoin",  # inside prometheusSpec, a map the reference fills
        "prometheus.prometheusSpec.storageSpec.volumeClaimTemplat",  # under a key documented as {}
        "prometheus.prometheusSpec.serviceName.sub",  # under a key documented as null
        "prometheus.prometheusSpec.retention.sub",  # a map where the reference has a string
    ],
)
def test_a_misspelt_key_is_reported_at_every_depth(path: str) -> None:
    values = nested(path, "x")
    values["prometheus"] = {**values.get("prometheus", {}), "enabled": True}  # a real key beside it
    assert unknown_keys(KUBE_PROMETHEUS_STACK, values) == [path]


def test_real_keys_pass() -> None:
    values = {"prometheus": {"enabled": True, "prometheusSpec": {"retention": "15d", "enableAdminAPI": False}}}
    assert unknown_keys(KUBE_PROMETHEUS_STACK, values) == []


def test_free_form_paths_are_not_looked_into() -> None:
    storage = "prometheus.prometheusSpec.storageSpec"
    values = nested(storage + ".volumeClaimTemplate.spec.resources.requests.storage", "50Gi")
    assert unknown_keys(KUBE_PROMETHEUS_STACK, values) == [storage + ".volumeClaimTemplate"]
    assert unknown_keys(KUBE_PROMETHEUS_STACK, values, [storage]) == []
    assert unknown_keys(KUBE_PROMETHEUS_STACK, {"notInChart": {"a": 1}}, ["notInChart"]) == []
