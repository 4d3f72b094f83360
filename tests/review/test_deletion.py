"""review/deletion.py: what each hub can erase (GDPR Art. 17), read from the values it declares."""

from __future__ import annotations

from typing import Any

import pytest

from components.settings import HubSettings, Tier
from review.deletion import RELEASE_TYPE, capabilities
from tests.fixture_fleet import load


def hub_settings(**changes: Any) -> HubSettings:
    """The EU hub, in the Prometheus tier unless `changes` says otherwise (two edges default to Mimir)."""
    scale = load("hub").settings.scale.model_copy(update={"tier": Tier.PROMETHEUS})
    return load("hub").settings.model_copy(update={"scale": scale, **changes})


def release(chart: str, values: dict) -> dict:
    return {"urn": f"urn:pulumi:hub::obsfleet::{RELEASE_TYPE}::{chart}", "type": RELEASE_TYPE, "custom": True,
            "inputs": {"chart": chart, "values": values}}


def by_signal(settings: HubSettings, resources: list[dict]) -> dict[str, Any]:
    return {c.signal: c for c in capabilities(settings, resources)}


def test_retention_bounds_come_from_the_hub_settings() -> None:
    settings = load("hub-us").settings
    found = by_signal(settings, [])
    assert {s: c.retention_days for s, c in found.items()} == {"metrics": 45, "logs": 30, "traces": 14}


@pytest.mark.parametrize(
    ("values", "status"),
    [
        ({"prometheus": {"prometheusSpec": {"enableAdminAPI": True}}}, "enabled"),
        ({"prometheus": {"prometheusSpec": {"enableAdminAPI": False}}}, "disabled"),
        ({"prometheus": {"prometheusSpec": {}}}, "disabled"),  # the chart's default is off
    ],
)
def test_prometheus_delete_series_needs_the_admin_api(values: dict, status: str) -> None:
    metrics = by_signal(hub_settings(), [release("kube-prometheus-stack", values)])["metrics"]
    assert (metrics.backend, metrics.status) == ("Prometheus", status)
    assert "delete_series" in metrics.mechanism and "enableAdminAPI" in metrics.evidence


def test_no_release_means_no_capability() -> None:
    found = by_signal(hub_settings(), [])
    assert found["metrics"].status == "disabled" and "no kube-prometheus-stack release" in found["metrics"].evidence
    assert found["logs"].status == "disabled" and "no loki release" in found["logs"].evidence


def test_mimir_tier_erases_whole_tenants_only() -> None:
    settings = hub_settings(scale=load("hub").settings.scale.model_copy(update={"tier": Tier.MIMIR}))
    metrics = by_signal(settings, [release("mimir-distributed", {})])["metrics"]
    assert (metrics.backend, metrics.status) == ("Mimir", "enabled")
    assert "/compactor/delete_tenant" in metrics.mechanism
    assert "no per-series" in metrics.scope


@pytest.mark.parametrize(
    ("loki", "status"),
    [
        ({"compactor": {"retention_enabled": True}}, "enabled"),  # deletion_mode defaults to filter-and-delete
        ({"structuredConfig": {"compactor": {"retention_enabled": True}}}, "enabled"),
        ({"compactor": {"retention_enabled": True}, "limits_config": {"deletion_mode": "filter-only"}}, "disabled"),
        ({"compactor": {"retention_enabled": False}}, "disabled"),
        ({"compactor": {"retention_enabled": False}, "structuredConfig": {"compactor": {"retention_enabled": True}}},
         "enabled"),
    ],
)
def test_loki_delete_api_needs_compactor_retention_and_real_deletion(loki: dict, status: str) -> None:
    logs = by_signal(hub_settings(), [release("loki", {"loki": loki})])["logs"]
    assert (logs.backend, logs.status) == ("Loki", status)
    assert "/loki/api/v1/delete" in logs.mechanism


def test_tempo_is_retention_only() -> None:
    traces = by_signal(hub_settings(), [])["traces"]
    assert (traces.backend, traces.status, traces.retention_days) == ("Tempo", "retention-only", 14)
