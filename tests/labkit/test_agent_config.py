"""The agent's effective prometheus.yml: what the chart values produce, valid for the real Prometheus."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from components.edge_sizing import EdgeSizing, for_settings
from components.settings import EdgeSettings
from components.values.edge_prometheus import kube_prometheus_stack_values
from labkit.agent_config import agent_config, agent_environment, agent_flags, operator_tls_files, render
from tests.components.settings_samples import edge_settings
from tests.lab.mtls import self_signed
from tests.lab.processes import Launcher, free_port, launching, promtool_check, wait_for

EDGE: dict[str, Any] = {
    "role": "edge",
    "org": "acme",
    "cloud": "aws",
    "region": "us-west-2",
    "regime": "ccpa",
    "cluster": "edge-us-west",
    "hubStack": "hub-us",
    "seriesEstimate": 120_000,
    "scrapeIntervalSeconds": 15,
}
URL = "https://metrics.obs.us.example.com/api/v1/write"
NAMESPACE, SECRET = "observability", "obsfleet-hub-client-tls"


@pytest.fixture(scope="module")
def settings() -> EdgeSettings:
    return edge_settings(EDGE)


@pytest.fixture(scope="module")
def sizing(settings: EdgeSettings) -> EdgeSizing:
    return for_settings(settings)


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    yield from launching(tmp_path)


def test_rendered_config_passes_promtool(tmp_path: Path, settings: EdgeSettings, sizing: EdgeSizing) -> None:
    path = tmp_path / "prometheus.yml"
    path.write_text(render(settings, sizing, URL, operator_tls_files(NAMESPACE, SECRET)))
    done = promtool_check("config", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    # The check is strict: the same document with one queue key misspelt is refused.
    path.write_text(path.read_text().replace("retry_on_http_429", "retry_on_http_492"))
    refused = promtool_check("config", str(path))
    assert refused.returncode != 0 and "retry_on_http_492" in refused.stdout + refused.stderr


def test_remote_write_is_what_the_chart_values_ask_for(settings: EdgeSettings, sizing: EdgeSizing) -> None:
    config = agent_config(settings, sizing, URL, operator_tls_files(NAMESPACE, SECRET))
    prometheus_spec = kube_prometheus_stack_values(settings, sizing, URL, SECRET)["prometheus"]["prometheusSpec"]
    [spec] = prometheus_spec["remoteWrite"]
    [entry] = config["remote_write"]
    assert (entry["name"], entry["url"], entry["headers"]) == (spec["name"], spec["url"], spec["headers"])
    camel = {re.sub(r"_(\w)", lambda m: m.group(1).upper(), key): value for key, value in entry["queue_config"].items()}
    camel["retryOnRateLimit"] = camel.pop("retryOnHttp429")
    assert camel == spec["queueConfig"]
    tls = spec["tlsConfig"]
    secret_keys = [tls["ca"]["secret"]["key"], tls["cert"]["secret"]["key"], tls["keySecret"]["key"]]
    files = [entry["tls_config"][name] for name in ("ca_file", "cert_file", "key_file")]
    assert files == [f"/etc/prometheus/certs/0_{NAMESPACE}_{SECRET}_{key}" for key in secret_keys]
    assert config["global"] == {
        "scrape_interval": "15s",
        "external_labels": {"cluster": "edge-us-west", "region": "us-west-2", "regime": "ccpa"},
    }
    # Only because the values stop the operator adding its `prometheus`/`prometheus_replica` labels.
    assert config["global"]["external_labels"] == prometheus_spec["externalLabels"]
    assert prometheus_spec["prometheusExternalLabelNameClear"] and prometheus_spec["replicaExternalLabelNameClear"]
    assert config["scrape_configs"][0]["static_configs"] == [{"targets": ["localhost:9090"]}]


def prometheus_spec_gogc(settings: EdgeSettings, sizing: EdgeSizing) -> int:
    runtime = kube_prometheus_stack_values(settings, sizing, URL, SECRET)["prometheus"]["prometheusSpec"]["runtime"]
    return runtime["goGC"]


@pytest.mark.lab
def test_a_real_agent_runs_the_config_with_the_sized_queue(launcher: Launcher, settings: EdgeSettings, sizing: EdgeSizing) -> None:
    workdir = launcher.workdir
    config = workdir / "agent.yml"
    # The hub is "down" (nobody listens on the port): the agent must still start and keep its WAL.
    config.write_text(render(settings, sizing, URL, self_signed("edge-us-west").files(workdir / "tls"), address=f"127.0.0.1:{free_port()}"))
    agent = launcher.start("agent", *agent_flags(sizing, str(config), str(workdir / "wal")), env=agent_environment(sizing))
    agent.wait_ready_http()
    # The GC target the chart values give the operator reaches the 2.x process as GOGC.
    environ = Path(f"/proc/{agent.process.pid}/environ").read_bytes().split(b"\0")
    assert f"GOGC={prometheus_spec_gogc(settings, sizing)}".encode() in environ

    def queue_metrics() -> dict[str, float] | None:
        found = {
            name: float(value)
            for name, value in re.findall(r'^(prometheus_remote_storage_\w+)\{[^}]*remote_name="hub"[^}]*\} (\S+)$', agent.metrics(), re.M)
        }
        return found if "prometheus_remote_storage_shards_max" in found else None

    metrics = wait_for("the agent's remote-write queue metrics", queue_metrics, timeout=20)
    assert metrics["prometheus_remote_storage_shards_max"] == sizing.queue.max_shards
    assert metrics["prometheus_remote_storage_shards_min"] == sizing.queue.min_shards
    assert metrics["prometheus_remote_storage_shard_capacity"] == sizing.queue.capacity
    assert metrics["prometheus_remote_storage_max_samples_per_send"] == sizing.queue.max_samples_per_send
