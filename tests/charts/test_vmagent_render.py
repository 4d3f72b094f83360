"""The vmagent release as the chart renders it: the real vmagent accepts the pod's command line
(flags parsed, scrape config checked), and that command line is the program's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.charts import VICTORIA_METRICS_AGENT
from components.vmagent_jobs import COLLECTOR, KUBE_STATE_METRICS, NODE_EXPORTER, SERVICE_ACCOUNT_DIR
from tests.charts.fleet import VMAGENT_SUFFIX, all_releases, rendered
from tests.lab.mtls import service_account_mount
from tests.lab.processes import VMAGENT, VMAGENT_PACKAGE, require_binary

SCRAPE_CONFIG = "/config/scrape/scrape.yml"


def _vmagent_pod() -> tuple[list[str], str]:
    """The rendered StatefulSet's vmagent arguments and the scrape config its ConfigMap holds."""
    [release] = [r for r in all_releases() if r.chart == VICTORIA_METRICS_AGENT.name and r.stack.endswith(VMAGENT_SUFFIX)]
    result = rendered(release.stack)
    if release in result.absent:
        pytest.skip(result.absent[release])
    assert release not in result.errors, result.errors[release]
    objects = result.objects[release]
    [workload] = [o for o in objects if o["kind"] == "StatefulSet"]
    [container] = workload["spec"]["template"]["spec"]["containers"]
    [scrape] = [o["data"]["scrape.yml"] for o in objects if o["kind"] == "ConfigMap" and "scrape.yml" in (o.get("data") or {})]
    return container["args"], scrape


def test_the_real_vmagent_accepts_the_rendered_command_line(tmp_path: Path) -> None:
    binary = require_binary(VMAGENT, VMAGENT_PACKAGE)
    args, scrape = _vmagent_pod()
    config = tmp_path / "scrape.yml"
    config.write_text(scrape.replace(SERVICE_ACCOUNT_DIR, str(service_account_mount(tmp_path / "sa"))))
    local = [arg.replace(SCRAPE_CONFIG, str(config)).replace("=/tmpData", f"={tmp_path / 'data'}") for arg in args]
    checked = subprocess.run([binary, *local, "-dryRun", "-loggerLevel=ERROR"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    # The same check refuses a flag value vmagent cannot parse.
    broken = [a.split("=")[0] + "=500 MB" if a.startswith("--remoteWrite.maxDiskUsagePerURL=") else a for a in local]
    refused = subprocess.run([binary, *broken, "-dryRun", "-loggerLevel=ERROR"], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "maxDiskUsagePerURL" in refused.stdout + refused.stderr


def test_the_pod_ships_with_the_programs_flags() -> None:
    args, _ = _vmagent_pod()
    flags = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in args if a.startswith("--remoteWrite.") and "=" in a}
    assert flags["--remoteWrite.tmpDataPath"] == "/tmpData"
    assert flags["--remoteWrite.tlsCertFile"].endswith("/tls.crt") and flags["--remoteWrite.url"].startswith("https://")
    assert flags["--remoteWrite.maxDiskUsagePerURL"].endswith("MiB")
    labels = [a.split("=", 1)[1] for a in args if a.startswith("--remoteWrite.label=")]
    assert [label.split("=")[0] for label in labels] == ["cluster", "region", "regime"]


def test_discovery_jobs_select_what_the_edges_charts_render() -> None:
    """The exporters' Services and the collector's pods carry the labels and port names the jobs keep."""
    [stack] = {r.stack for r in all_releases() if r.stack.endswith(VMAGENT_SUFFIX)}
    result = rendered(stack)
    objects = [o for objs in result.objects.values() for o in objs]
    if not objects:
        pytest.skip("the edge's charts are not in the chart cache")
    services = {(o["metadata"]["labels"].get("app.kubernetes.io/name"), p.get("name"))
                for o in objects if o["kind"] == "Service" for p in o["spec"]["ports"]}
    assert {KUBE_STATE_METRICS, NODE_EXPORTER} <= services
    pods = {(o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name"), p.get("name"))
            for o in objects if o["kind"] in ("DaemonSet", "Deployment", "StatefulSet")
            for c in o["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
    assert COLLECTOR in pods
