"""`python -m review stacks`: the fleet as the stack files define it, for people and for CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.cli import main
from tests import fixture_fleet

DIR = ["--stacks-dir", str(fixture_fleet.STACKS_DIR)]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["stacks", *args]) == 0
    return capsys.readouterr().out


def test_json_lists_hubs_first_with_each_edges_hub(capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(_run(capsys, *DIR, "--format", "json"))
    assert [r["stack"] for r in rows] == ["hub", "hub-ap", "hub-us", "edge-ap-southeast", "edge-eu", "edge-eu-north", "edge-us-west"]
    by_name = {r["stack"]: r for r in rows}
    assert by_name["edge-us-west"] == {"stack": "edge-us-west", "role": "edge", "cloud": "aws", "region": "us-west-2",
                                       "regime": "ccpa", "hub": "hub-us"}
    assert by_name["hub-ap"]["hub"] is None


def test_matrix_is_one_line_with_the_regimes_deploy_role_for_aws(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, *DIR, "--role", "hub", "--format", "matrix")
    assert out.count("\n") == 1  # one $GITHUB_OUTPUT line
    assert json.loads(out) == {"include": [
        {"stack": "hub", "stack-name": "acme/obsfleet/hub", "cloud": "aws", "region": "eu-central-1",
         "aws-role": "AWS_DEPLOY_ROLE_GDPR"},
        {"stack": "hub-ap", "stack-name": "acme/obsfleet/hub-ap", "cloud": "gcp", "region": "asia-southeast1"},
        {"stack": "hub-us", "stack-name": "acme/obsfleet/hub-us", "cloud": "aws", "region": "us-east-1",
         "aws-role": "AWS_DEPLOY_ROLE_CCPA"},
    ]}


def test_the_matrix_names_stacks_in_the_one_org_of_pulumi_yaml(stacks_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = stacks_dir / "Pulumi.yaml"
    project.write_text(project.read_text().replace("default: acme", "default: example-corp"))
    entries = json.loads(_run(capsys, "--stacks-dir", str(stacks_dir), "--format", "matrix"))["include"]
    assert {e["stack-name"] for e in entries} == {f"example-corp/obsfleet/{e['stack']}" for e in entries}


def test_a_new_stack_file_is_listed(stacks_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (stacks_dir / "Pulumi.edge-eu-2.yaml").write_text(
        (stacks_dir / "Pulumi.edge-eu.yaml").read_text().replace("cluster: edge-eu", "cluster: edge-eu-2"))
    edges = json.loads(_run(capsys, "--stacks-dir", str(stacks_dir), "--role", "edge", "--format", "matrix"))["include"]
    assert "edge-eu-2" in [e["stack"] for e in edges]


def test_table_is_markdown_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _run(capsys, *DIR).splitlines()
    assert lines[0] == "| stack | role | cloud / region | regime | ships to |"
    assert "| `edge-eu` | edge | aws eu-west-1 | gdpr | `hub` |" in lines
    assert len(lines) == 2 + len(fixture_fleet.names())


def test_no_stack_files_is_an_empty_matrix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert json.loads(_run(capsys, "--stacks-dir", str(tmp_path), "--format", "matrix")) == {"include": []}


def test_a_bad_stack_file_is_exit_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Pulumi.hub.yaml").write_text("config:\n  obsfleet:role: spoke\n")
    assert main(["stacks", "--stacks-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Pulumi.hub.yaml: ") and "obsfleet:role" in err and len(err.splitlines()) == 1
