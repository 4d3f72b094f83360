"""Alertmanager config builder: valid for the real amtool, routes as intended, secrets only where asked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.alerting import NULL_RECEIVER, alertmanager_config, render
from components.settings import Receiver
from tests.lab.processes import require_binary

AMTOOL = Path("/usr/bin/amtool")
RECEIVERS = [
    Receiver(name="sre-eu", type="slack", channel="#obs-eu-alerts", secret="slackWebhookUrl"),
    Receiver(name="sre-us", type="pagerduty", secret="pagerdutyRoutingKey"),
    Receiver(name="sre-ap", type="webhook", secret="alertWebhookUrl"),
]
FAKE = {
    "slackWebhookUrl": "https://hooks.slack.invalid/services/T000/B000/fake",
    "pagerdutyRoutingKey": "fake-routing-key-0123456789",
    "alertWebhookUrl": "https://alerts.invalid/hook",
}


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alertmanager") / "alertmanager.yml"
    path.write_text(render(alertmanager_config(RECEIVERS, FAKE)))
    return path


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_binary(AMTOOL, "prometheus-alertmanager"), *args], capture_output=True, text=True, timeout=60
    )


def test_config_passes_amtool_check_config(config_file: Path) -> None:
    result = _amtool("check-config", str(config_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 receivers" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["alertname=ObsfleetEdgeSilent", "cluster=edge-eu"], "sre-eu,sre-us,sre-ap"),
        (["alertname=Watchdog"], NULL_RECEIVER),
    ],
)
def test_routing_tree(config_file: Path, labels: list[str], receivers: str) -> None:
    result = _amtool("config", "routes", "test", f"--config.file={config_file}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers


def test_without_receivers_the_config_is_still_valid(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(render(alertmanager_config([], {})))
    result = _amtool("check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_receiver_gets_its_own_credential() -> None:
    receivers = {r["name"]: r for r in alertmanager_config(RECEIVERS, FAKE)["receivers"]}
    assert receivers["sre-eu"]["slack_configs"][0] == {
        "api_url": FAKE["slackWebhookUrl"],
        "channel": "#obs-eu-alerts",
        "send_resolved": True,
    }
    assert receivers["sre-us"]["pagerduty_configs"][0]["routing_key"] == FAKE["pagerdutyRoutingKey"]
    assert receivers["sre-ap"]["webhook_configs"][0]["url"] == FAKE["alertWebhookUrl"]


def test_silent_edge_inhibits_its_remote_write_alerts() -> None:
    rules = alertmanager_config(RECEIVERS, FAKE)["inhibit_rules"]
    assert {
        "source_matchers": ['alertname="ObsfleetEdgeSilent"'],
        "target_matchers": ['alertname=~"ObsfleetEdgeRemoteWrite.*"'],
        "equal": ["cluster"],
    } in rules


def test_missing_credential_names_the_config_key() -> None:
    with pytest.raises(ValueError, match="obsfleet:pagerdutyRoutingKey"):
        alertmanager_config(RECEIVERS, {k: v for k, v in FAKE.items() if k != "pagerdutyRoutingKey"})


def test_render_is_yaml_of_the_config() -> None:
    config = alertmanager_config(RECEIVERS, FAKE)
    assert yaml.safe_load(render(config)) == config
