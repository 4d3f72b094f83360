"""`python -m review preview`: the real program under mocks, exports, exit codes and messages."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from review import engine
from review.cli import main
from review.stacks import project_root, stack_names
from tests import fixture_fleet

STACKS = fixture_fleet.names()
BUILTIN = ("pulumi:pulumi:", "pulumi:providers:")


def test_the_example_stacks_preview_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The project's own Pulumi.<stack>.yaml files are the users' to edit: whatever they hold,
    every one of them previews and passes the pack."""
    assert main(["preview", "--all", "--out", str(tmp_path), "--quiet"]) == 0, capsys.readouterr().err
    written = sorted(p.stem for p in tmp_path.glob("*.json") if not p.name.startswith("report"))
    assert written == stack_names() != []


@pytest.mark.parametrize("name", STACKS)
def test_fixture_stack_has_its_components(fleet: dict[str, engine.PreviewResult], name: str) -> None:
    types = {r["type"] for r in fleet[name].resources}
    role = "obsfleet:index:HubStack" if name.startswith("hub") else "obsfleet:index:EdgeAgent"
    assert {"obsfleet:index:ResidencyBoundary", role} <= types


@pytest.mark.parametrize("name", STACKS)
def test_every_custom_resource_sits_under_a_component(fleet: dict[str, engine.PreviewResult], name: str) -> None:
    by_urn = {r["urn"]: r for r in fleet[name].resources}
    for record in fleet[name].resources:
        if record["custom"]:
            parent = by_urn[record["parent"]]
            assert parent["type"].startswith("obsfleet:index:"), record["urn"]


def test_edge_sees_its_hubs_outputs(fleet: dict[str, engine.PreviewResult]) -> None:
    for edge, hub in [("edge-eu", "hub"), ("edge-us-west", "hub-us"), ("edge-ap-southeast", "hub-ap")]:
        assert fleet[edge].outputs["remoteWriteUrl"] == fleet[hub].outputs["remoteWriteUrl"]
        assert fleet[edge].outputs["regime"] == fleet[hub].outputs["regime"]


def test_export_has_the_stack_export_shape(fleet: dict[str, engine.PreviewResult]) -> None:
    export = fleet["hub"].export()
    assert export["version"] == 3
    resources = export["deployment"]["resources"]
    assert resources[0]["type"] == "pulumi:pulumi:Stack"
    assert all({"urn", "type", "custom"} <= set(r) for r in resources)
    assert all("id" in r for r in resources if r["custom"])
    json.dumps(export)  # serialisable as written to out/


def test_preview_one_edge_previews_its_hub_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The hub signs the requests of all its edges: their stacks run too (their first run first).
    assert main(["preview", "--stack", "edge-eu", "--stacks-dir", str(fixture_fleet.STACKS_DIR), "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["hub", "edge-eu", "edge-eu-north"]
    written = sorted(p.name for p in tmp_path.glob("*.json") if not p.name.startswith("report"))
    assert written == ["edge-eu-north.json", "edge-eu.json", "hub.json"]
    assert json.loads((tmp_path / "edge-eu.json").read_text())["version"] == 3


def _mutate(stacks_dir: Path, stack: str, change: dict) -> None:
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    for key, value in change.items():
        if value is None:
            document["config"].pop(key, None)
        else:
            document["config"][key] = value
    path.write_text(yaml.safe_dump(document))


FIXTURE_EDGES = [
    {"name": "edge-eu", "region": "eu-west-1", "seriesEstimate": 80000},
    {"name": "edge-eu-north", "region": "eu-north-1", "seriesEstimate": 40000, "bufferHours": 6},
]
"""The fixture hub's `obsfleet:edges`."""

BAD_CONFIG = [
    ("hub", {"obsfleet:retention": {"metrics": "thirty"}}, "obsfleet:retention.metrics: 'thirty': Input should be a valid integer"),
    ("hub", {"obsfleet:retentionDays": 30}, "obsfleet:retentionDays: unknown key"),
    ("hub", {"obsfleet:regime": "hipaa"}, "obsfleet:regime: 'hipaa' is not allowed (allowed: ccpa, gdpr, pdpa)"),
    ("hub", {"obsfleet:edges": [{"name": "edge-eu", "region": "eu-west-1"}, {"name": "edge-eu", "region": "eu-north-1"}]},
     "obsfleet:edges[1].name: duplicate 'edge-eu'"),
    ("hub", {"obsfleet:domain": None}, "obsfleet:domain: required key is missing"),
    ("hub", {"obsfleet:edges": []}, "obsfleet:edges: []: List should have at least 1 item"),
    ("hub", {"obsfleet:retention": {"logs": -7}}, "obsfleet:retention.logs: -7: Input should be greater than 0"),
    ("hub", {"obsfleet:region": "us-east-1"}, "obsfleet:region: 'us-east-1' (US) is outside the gdpr boundary (allowed: AT, BE"),
    ("hub", {"obsfleet:edges": [{"name": "edge-uk", "region": "eu-west-2"}]},
     "obsfleet:edges[0].region: 'eu-west-2' (GB) is outside the gdpr boundary"),
    ("hub-ap", {"obsfleet:project": None}, "obsfleet:project: required when cloud is gcp"),
    ("edge-eu", {"obsfleet:bufferHours": "four"}, "obsfleet:bufferHours: 'four': Input should be a valid number"),
    ("edge-eu", {"obsfleet:role": "spoke"}, "obsfleet:role: 'spoke' is not allowed (allowed: edge, hub)"),
    ("edge-eu", {"obsfleet:hubStack": "acme/other/hub"}, "obsfleet:hubStack: 'acme/other/hub': must be a stack's short name (hub)"),
    ("edge-eu", {"obsfleet:hubStack": "hub-eu"}, "Pulumi.edge-eu.yaml: obsfleet:hubStack: unknown stack 'hub-eu' (no Pulumi.hub-eu.yaml"),
    ("hub", {"obsfleet:edges": [{"name": "edge-eu", "region": "eu-west-1", "seriesEstimate": 80000, "stack": "edge-eu-prod"}]},
     "Pulumi.hub.yaml: obsfleet:edges: unknown stack 'edge-eu-prod' (no Pulumi.edge-eu-prod.yaml"),
    ("edge-eu", {"obsfleet:org": "acme/obsfleet"}, "obsfleet:org: 'acme/obsfleet': must be a Pulumi organization or user name (acme)"),
    ("edge-eu", {"obsfleet:clusterMesh": {"id": 0}}, "obsfleet:clusterMesh.id: 0: Input should be greater than or equal to 1"),
    # One fact, two files: the edge's and its hub entry's must agree.
    ("edge-eu", {"obsfleet:bufferHours": 12},
     "Pulumi.edge-eu.yaml: obsfleet:bufferHours=12 differs from Pulumi.hub.yaml obsfleet:edges[0].bufferHours=4"),
    ("edge-eu-north", {"obsfleet:bufferHours": "4"},
     "Pulumi.edge-eu-north.yaml: obsfleet:bufferHours=4 differs from Pulumi.hub.yaml obsfleet:edges[1].bufferHours=6"),
    ("edge-eu", {"obsfleet:region": "eu-west-3", "aws:region": "eu-west-3"},
     "obsfleet:region=eu-west-3 differs from Pulumi.hub.yaml obsfleet:edges[0].region=eu-west-1"),
    ("edge-eu", {"obsfleet:seriesEstimate": "30000"},
     "obsfleet:seriesEstimate=30000 differs from Pulumi.hub.yaml obsfleet:edges[0].seriesEstimate=80000"),
    ("edge-eu", {"obsfleet:agentReplicas": 2},
     "obsfleet:agentReplicas=2 differs from Pulumi.hub.yaml obsfleet:edges[0].agentReplicas=1"),
    ("edge-eu", {"obsfleet:agent": "vmagent", "obsfleet:agentReplicas": 2},
     "obsfleet:agentReplicas: an HA pair runs the Prometheus agent"),
    # An HA pair needs a hub that deduplicates it.
    ("hub", {"obsfleet:edges": [*FIXTURE_EDGES[:1], {**FIXTURE_EDGES[1], "agentReplicas": 2}],
             "obsfleet:scale": {"tier": "prometheus"}},
     "obsfleet:edges[1].agentReplicas: 2 needs the mimir tier: the Prometheus tier's one receiver cannot deduplicate"),
    ("hub", {"obsfleet:edges": [{**FIXTURE_EDGES[0], "agentReplicas": 2}, FIXTURE_EDGES[1]],
             "obsfleet:scale": {"tier": "mimir"}},
     "obsfleet:edges[0].agentReplicas: 2 needs scale.haTracker"),
    ("hub", {"obsfleet:retention": {"metrics": 0.2}}, "obsfleet:retention.metrics: 0.2: Input should be a valid integer"),
    ("hub", {"obsfleet:retention": {"metrics": 1}, "obsfleet:edges": [{"name": "edge-eu", "region": "eu-west-1", "bufferHours": 48}]},
     "obsfleet:retention.metrics: 1 days (24 h) is shorter than the 48 h replay window of edges[0].bufferHours"),
    # No silent misconfiguration.
    ("hub", {"obsfleet:grafanaAdminPassword": "hunter2"},
     "obsfleet:grafanaAdminPassword: a secret in plain text; remove it from the stack file and run "
     "`pulumi config set --secret obsfleet:grafanaAdminPassword`"),
    ("hub", {"obsfleet:slackWebhookUrl": "https://hooks.slack.com/services/x"},
     "obsfleet:slackWebhookUrl: a secret in plain text; remove it from the stack file and run "
     "`pulumi config set --secret obsfleet:slackWebhookUrl`"),
    ("edge-eu", {"obsfleet:kubeconfig": "apiVersion: v1"}, "`pulumi config set --secret obsfleet:kubeconfig`"),
    ("edge-eu", {"obsfleet:kubernetes": None}, "obsfleet:kubernetes.context: no target cluster"),
    ("hub", {"obsfleet:kubernetes": {"namespace": "obs"}}, "obsfleet:kubernetes.context: no target cluster"),
    ("edge-eu", {"obsflet:bufferHours": 12}, "obsflet:bufferHours: unknown namespace 'obsflet': did you mean obsfleet:bufferHours?"),
]


@pytest.mark.parametrize(("stack", "change", "message"), BAD_CONFIG)
def test_bad_config_is_exit_2_with_the_key_path(
    stacks_dir: Path, capsys: pytest.CaptureFixture[str], stack: str, change: dict, message: str
) -> None:
    _mutate(stacks_dir, stack, change)
    assert main(["preview", "--stack", stack, "--stacks-dir", str(stacks_dir), "--out", str(stacks_dir / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert f"Pulumi.{stack}.yaml" in err or "unknown stack" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (stacks_dir / "out").exists(), "nothing is written when the input is bad"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("config:\n  obsfleet:role: [hub\n", "Pulumi.hub.yaml: line 3: not valid YAML"),
        ("just a string\n", "Pulumi.hub.yaml: no `config:` mapping"),
        ("config:\n  obsfleet:role: hub\n  obsfleet:cluster: a\n  obsfleet:role: edge\n",
         "Pulumi.hub.yaml: line 4: duplicate key 'obsfleet:role' (first at line 2); keep one"),
        ("config:\n  obsfleet:retention:\n    metrics: 30\n    metrics: 1\n",
         "Pulumi.hub.yaml: line 4: duplicate key 'metrics' (first at line 3); keep one"),
    ],
)
def test_unreadable_stack_file_is_exit_2(stacks_dir: Path, capsys: pytest.CaptureFixture[str], content: str, message: str) -> None:
    (stacks_dir / "Pulumi.hub.yaml").write_text(content)
    assert main(["preview", "--stack", "hub", "--stacks-dir", str(stacks_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_unknown_stack_and_bad_flags_are_exit_2_without_traceback() -> None:
    for args in (["preview", "--stack", "nope"], ["preview"], ["frobnicate"]):
        done = subprocess.run([sys.executable, "-m", "review", *args], cwd=project_root(), capture_output=True, text=True)
        assert done.returncode == 2, args
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["hub", "hub-us"])
def test_provider_computed_arns_name_the_providers_region(fleet: dict[str, engine.PreviewResult], name: str) -> None:
    """A resource without its own `region` is in its provider's: the mocks' ARNs and endpoints say
    so (an EU key ARN in a CCPA stack's export would mislead its auditor)."""
    settings = fleet[name].config.settings
    text = json.dumps(fleet[name].export())
    regions = set(re.findall(r"arn:aws:kms:([a-z0-9-]+):", text)) | set(re.findall(r"\.s3\.([a-z0-9-]+)\.amazonaws", text))
    assert regions == {settings.region, settings.replica_region}


# --- the same input writes the same bytes ---------------------------------------------------------

REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>")


def _written(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def _without_generated_at(out: Path) -> dict[str, bytes]:
    """What a review wrote, its one varying value (report.json's `generatedAt`, also in report.md)
    replaced by a placeholder."""
    moment = json.loads((out / "report.json").read_text())["generatedAt"].encode()
    return {name: content.replace(moment, b"<generatedAt>") for name, content in _written(out).items()}


def test_two_reviews_of_the_same_stacks_write_the_same_bytes(tmp_path: Path) -> None:
    for run in ("first", "second"):
        args = ["preview", "--all", "--stacks-dir", str(fixture_fleet.STACKS_DIR), "--out", str(tmp_path / run), "--quiet"]
        assert main(args) == 0
    first, second = _without_generated_at(tmp_path / "first"), _without_generated_at(tmp_path / "second")
    assert sorted(first) == sorted([f"{n}.json" for n in STACKS] + ["report.json", "report.md", "report.schema.json"])
    assert [name for name in first if first[name] != second[name]] == []
    for name, content in first.items():
        assert not REPR.search(content.decode()), f"{name} holds a Python repr"


def test_an_asset_is_written_in_the_engines_form(fleet: dict[str, engine.PreviewResult]) -> None:
    releases = [r for r in fleet["hub-us"].resources if r["outputs"].get("valueYamlFiles")]  # the single Tempo chart
    assert releases
    for release in releases:
        for side in ("inputs", "outputs"):
            for asset in release[side]["valueYamlFiles"]:
                assert asset == {
                    engine.SIG: engine.ASSET_SIG,
                    "hash": hashlib.sha256(asset["text"].encode()).hexdigest(),
                    "text": asset["text"],
                }


def test_previewing_one_stack_keeps_the_fleet_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stacks_dir = ["--stacks-dir", str(fixture_fleet.STACKS_DIR), "--out", str(tmp_path)]
    assert main(["preview", "--all", "--quiet", *stacks_dir]) == 0
    fleet_report = _written(tmp_path)
    assert main(["preview", "--stack", "edge-eu", *stacks_dir]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"report in {tmp_path}/report-edge-eu.md")
    after = _written(tmp_path)
    assert {name: after[name] for name in fleet_report} == fleet_report
    assert set(after) - set(fleet_report) == {"report-edge-eu.json", "report-edge-eu.md"}
    # The hub signs every edge's request: its other edges run too and are reported.
    assert [s["name"] for s in json.loads(after["report-edge-eu.json"])["stacks"]] == ["hub", "edge-eu", "edge-eu-north"]
