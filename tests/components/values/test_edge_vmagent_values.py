"""vmagent edge values: keys exist in the pinned charts, the scrape config passes the real vmagent's
strict check, and the flags carry the edge's identity and sized buffer."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.charts import KUBE_PROMETHEUS_STACK, VICTORIA_METRICS_AGENT
from components.prometheus_tls import to_yaml
from components.settings import EdgeSettings
from components.values.edge_vmagent import exporters_only_values, vmagent_values
from components.vmagent_jobs import SERVICE_ACCOUNT_DIR, cluster_jobs
from components.vmagent_sizing import for_settings
from tests.components.settings_samples import edge_settings
from tests.helm_reference import unknown_keys
from tests.lab.mtls import service_account_mount
from tests.lab.processes import VMAGENT, VMAGENT_PACKAGE, require_binary

URL = "https://metrics.obs.eu.example.com/api/v1/write"
SECRET = "obsfleet-hub-client-tls"
FREE_FORM = {
    # Maps the chart passes through as they are: labels, flag names (dotted), Kubernetes resources.
    VICTORIA_METRICS_AGENT: ["extraLabels", "podLabels", "extraArgs", "resources"],
    KUBE_PROMETHEUS_STACK: ["commonLabels"],
}


def settings_with(**overrides: Any) -> EdgeSettings:
    return edge_settings(agent="vmagent", **overrides)


@pytest.fixture(scope="module")
def settings() -> EdgeSettings:
    return settings_with(seriesEstimate=80_000)


@pytest.fixture(scope="module")
def values(settings: EdgeSettings) -> dict[str, Any]:
    return vmagent_values(settings, for_settings(settings), URL, SECRET)


def test_every_key_is_in_the_charts_values(settings: EdgeSettings, values: dict[str, Any]) -> None:
    assert unknown_keys(VICTORIA_METRICS_AGENT, values, FREE_FORM[VICTORIA_METRICS_AGENT]) == []
    assert unknown_keys(KUBE_PROMETHEUS_STACK, exporters_only_values(settings), FREE_FORM[KUBE_PROMETHEUS_STACK]) == []


def test_a_misspelt_key_would_be_caught(values: dict[str, Any]) -> None:
    assert unknown_keys(VICTORIA_METRICS_AGENT, {**values, "persistentVolume": {"sise": "1Gi"}}, FREE_FORM[VICTORIA_METRICS_AGENT]) == [
        "persistentVolume.sise"
    ]


def test_the_buffer_volume_is_a_claim_per_pod_of_the_sized_size(settings: EdgeSettings, values: dict[str, Any]) -> None:
    sizing = for_settings(settings)
    assert values["mode"] == "statefulSet" and values["replicaCount"] == 1
    assert values["persistentVolume"] == {"enabled": True, "size": f"{sizing.volume_gib}Gi"}
    gp3 = settings_with(kubernetes={"storageClass": "gp3"})
    assert vmagent_values(gp3, for_settings(gp3), URL, SECRET)["persistentVolume"]["storageClassName"] == "gp3"
    # The volume holds the cap and the chunk the queue may keep beyond it.
    assert sizing.volume_gib * 2**30 >= sizing.max_disk_usage_bytes + 512 * 2**20


def _vmagent_check(config: dict[str, Any], directory: Path) -> subprocess.CompletedProcess[str]:
    binary = require_binary(VMAGENT, VMAGENT_PACKAGE)
    path = directory / "scrape.yml"
    text = to_yaml(config).replace(SERVICE_ACCOUNT_DIR, str(service_account_mount(directory / "sa")))
    path.write_text(text)
    return subprocess.run(
        [binary, "-dryRun", f"-promscrape.config={path}", "-loggerLevel=ERROR"], capture_output=True, text=True, timeout=60
    )


def test_the_scrape_config_passes_vmagents_strict_check(values: dict[str, Any], tmp_path: Path) -> None:
    checked = _vmagent_check(values["config"], tmp_path / "ok")
    assert checked.returncode == 0, checked.stderr
    # ...which refuses what it does not know.
    job = {**cluster_jobs("observability")[0], "scrape_intervall": "5s"}
    refused = _vmagent_check({**values["config"], "scrape_configs": [job]}, tmp_path / "bad")
    assert refused.returncode != 0 and "scrape_intervall" in refused.stderr


def test_scrape_jobs_keep_the_prometheus_edges_job_labels(values: dict[str, Any]) -> None:
    config = yaml.safe_load(to_yaml(values["config"]))
    assert config["global"] == {"scrape_interval": "30s"}
    names = {job["job_name"] for job in config["scrape_configs"]}
    assert {"vmagent", "apiserver", "kubelet", "coredns", "kube-proxy", "kube-state-metrics", "node-exporter",
            "opentelemetry-collector"} <= names
    # The three kubelet paths are one `job="kubelet"`, told apart by `metrics_path`, as kube-prometheus-stack does.
    kubelet = [job for job in config["scrape_configs"] if job["job_name"].startswith("kubelet")]
    assert sorted(job["metrics_path"] for job in kubelet) == ["/metrics", "/metrics/cadvisor", "/metrics/probes"]
    assert all({"target_label": "job", "replacement": "kubelet"} in job["relabel_configs"] for job in kubelet)
