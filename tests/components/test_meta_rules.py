"""Meta-monitoring rules: rendered as the hub deploys them, checked and unit-tested with the real promtool.

The promtool cases live next to this file (tests/components/rules/*.test.yml); each names the rule
file it loads, which this module renders from components/meta_rules.py into a temporary directory.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components import meta_rules
from components.meta_rules import Certificate, certificate_group, fleet_group, hub_groups, rules_file, tenant_group
from tests.lab.processes import PROMTOOL, require_binary

CASES = Path(__file__).parent / "rules"
EDGES = ["edge-eu", "edge-eu-north"]
DAY = 86_400
# The certificates the certificates.test.yml cases are written for.
CERTIFICATES = [
    Certificate("ca", "ca", 3650 * DAY),
    Certificate("server", "server", 90 * DAY),
    Certificate("edge-eu", "client", 40 * DAY),
]
RENEWAL_DAYS = 30

RULE_FILES = {
    "fleet": [fleet_group(EDGES, by_tenant=False)],
    "fleet-mimir": [fleet_group(EDGES, by_tenant=True)],
    "fleet-mimir-one-edge": [fleet_group(EDGES[:1], by_tenant=True)],
    "tenants": [tenant_group(EDGES)],
    "hub-prometheus": hub_groups(mimir=False),
    "hub-mimir": hub_groups(mimir=True),
    "certificates": [certificate_group(CERTIFICATES, RENEWAL_DAYS)],
}


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("rules")
    for name, groups in RULE_FILES.items():
        (directory / f"{name}.rules.yml").write_text(rules_file(groups))
        shutil.copy(CASES / f"{name}.test.yml", directory)
    return directory


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_binary(PROMTOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", sorted(RULE_FILES))
def test_rules_pass_promtool_check(rules_dir: Path, name: str) -> None:
    result = _promtool("check", "rules", f"{name}.rules.yml", cwd=rules_dir)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(RULE_FILES))
def test_rule_unit_tests_pass(rules_dir: Path, name: str) -> None:
    result = _promtool("test", "rules", f"{name}.test.yml", cwd=rules_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def _alerts(groups: list[dict]) -> set[str]:
    return {r["alert"] for g in groups for r in g["rules"] if "alert" in r}


def _exercised(cases: list[Path]) -> tuple[set[str], set[str]]:
    """Alerts the cases expect firing, and alerts they expect quiet."""
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in cases:
        for test in yaml.safe_load(case.read_text())["tests"]:
            for check in test.get("alert_rule_test", []):
                (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    return firing, quiet


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    """Each alert of the rendered files appears in a test with alerts expected and one with none."""
    alerts = set().union(*(_alerts(groups) for groups in RULE_FILES.values()))
    firing, quiet = _exercised(list(CASES.glob("*.test.yml")))
    assert alerts <= firing, f"never seen firing: {sorted(alerts - firing)}"
    assert alerts <= quiet, f"never seen quiet: {sorted(alerts - quiet)}"


def test_every_mimir_fleet_alert_is_tried_against_a_forger() -> None:
    """The Mimir tier's fleet alerts are each exercised on series as the federated query returns
    them, a forger's included (fleet-mimir.test.yml), not only on the Prometheus tier's."""
    alerts = _alerts(RULE_FILES["fleet-mimir"])
    firing, quiet = _exercised([CASES / "fleet-mimir.test.yml"])
    assert alerts <= firing and alerts <= quiet, sorted(alerts - (firing & quiet))


def test_one_silence_rule_per_configured_edge() -> None:
    edges = [f"edge-{i}" for i in range(5)]
    silent = [r for r in fleet_group(edges, by_tenant=False)["rules"] if r.get("alert") == "ObsfleetEdgeSilent"]
    assert [r["expr"] for r in silent] == [f'absent(up{{cluster="{e}"}})' for e in edges]
    assert [r["labels"]["cluster"] for r in silent] == edges


def test_mimir_tier_judges_silence_per_tenant_not_per_label() -> None:
    edges = [f"edge-{i}" for i in range(3)]
    assert not [r for r in fleet_group(edges, by_tenant=True)["rules"] if r.get("alert") == "ObsfleetEdgeSilent"]
    silent = tenant_group(edges)["rules"]
    assert [r["labels"]["cluster"] for r in silent] == edges
    for edge, rule in zip(edges, silent):
        assert f'cortex_distributor_received_samples_total{{user="{edge}"}}' in rule["expr"]
        assert "cluster=" not in rule["expr"]


def test_lag_rule_reads_both_prometheus_generations() -> None:
    lag = next(r for r in fleet_group(EDGES, by_tenant=False)["rules"] if r.get("alert") == "ObsfleetEdgeRemoteWriteBehind")
    for metric in (
        "prometheus_remote_storage_queue_highest_timestamp_seconds",
        "prometheus_remote_storage_highest_timestamp_in_seconds",
        "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
    ):
        assert metric in lag["expr"]


def test_certificate_rules_use_the_renewal_window() -> None:
    group = certificate_group(CERTIFICATES, renewal_days=21)
    records = [r for r in group["rules"] if "record" in r]
    assert {(r["labels"]["certificate"], r["expr"]) for r in records} == {
        (c.name, f"vector({c.not_after})") for c in CERTIFICATES
    }
    due = next(r for r in group["rules"] if r.get("alert") == "ObsfleetCertificateRenewalDue")
    assert due["expr"] == f"{meta_rules.CERTIFICATE_METRIC} - time() < {21 * DAY}"
