"""CI and Pulumi Deployments setup: valid YAML that runs the README's commands for every stack, hubs first."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from review.stacks import load, project_root, stack_names

ROOT = project_root()
WORKFLOW = ROOT / ".github" / "workflows" / "review.yml"
DEPLOYMENTS_DOC = ROOT / "docs" / "deployments.md"


def stacks() -> dict[str, Any]:
    return {name: load(name) for name in stack_names()}


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def deployments() -> dict[str, Any]:
    blocks = re.findall(r"^```yaml\n(.*?)^```", DEPLOYMENTS_DOC.read_text(), re.M | re.S)
    assert len(blocks) == 1, "docs/deployments.md holds one Pulumi YAML program"
    return yaml.safe_load(blocks[0])


def readme_commands() -> list[str]:
    """The README's two opening commands (its first ```sh block)."""
    block = re.search(r"^```sh\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)
    assert block
    return [line for line in block[1].splitlines() if line.strip()]


def run_parts(job: dict[str, Any]) -> list[str]:
    """Every shell command of a job's steps, split at `&&` and newlines."""
    parts: list[str] = []
    for step in job["steps"]:
        for line in str(step.get("run", "")).splitlines():
            parts += [p.strip() for p in line.split("&&") if p.strip()]
    return parts


def step(job: dict[str, Any], uses: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(uses + "@")]


# --- GitHub Actions ------------------------------------------------------------------------------------


def test_workflow_triggers(workflow: dict[str, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # PyYAML reads a bare `on` key as True
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert {jobs[j]["if"] for j in ("offline-review", "tests")} == {"github.event_name == 'pull_request'"}
    assert {jobs[j]["if"] for j in ("hubs", "edges")} == {"github.event_name == 'push'"}


def test_pull_requests_run_the_readme_commands_and_post_the_report(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["offline-review"]
    parts = run_parts(job)
    setup, _tests = readme_commands()
    for command in (p.strip() for p in setup.split("&&")):
        assert any(part.startswith(command) for part in parts), command
    assert "venv/bin/python -m review preview --all --quiet" in parts
    (summary,) = [s for s in job["steps"] if "GITHUB_STEP_SUMMARY" in str(s.get("run", ""))]
    assert "cat out/report.md >> \"$GITHUB_STEP_SUMMARY\"" in summary["run"] and summary["if"] == "always()"
    (upload,) = step(job, "actions/upload-artifact")
    assert upload["with"]["path"] == "out/" and upload["if"] == "always()"
    review_index = next(i for i, s in enumerate(job["steps"]) if "review preview" in str(s.get("run", "")))
    assert job["steps"].index(summary) > review_index


def test_pull_requests_run_the_readme_test_command_through_ci(workflow: dict[str, Any]) -> None:
    assert "bash .ci/run" in run_parts(workflow["jobs"]["tests"])
    _setup, tests = readme_commands()
    assert tests in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize(("job", "hubs"), [("hubs", True), ("edges", False)])
def test_main_deploys_every_stack_hubs_first(workflow: dict[str, Any], job: str, hubs: bool) -> None:
    matrix = workflow["jobs"][job]["strategy"]["matrix"]["include"]
    expected = {name: s for name, s in stacks().items() if s.is_hub == hubs}
    assert sorted(entry["stack"] for entry in matrix) == sorted(expected)
    for entry in matrix:
        settings = expected[entry["stack"]].settings
        assert (entry["cloud"], entry["region"]) == (settings.cloud.value, settings.region)
        if entry["cloud"] == "aws":  # each regime deploys with its own role
            assert entry["aws-role"] == f"AWS_DEPLOY_ROLE_{settings.regime.value.upper()}"
    assert workflow["jobs"]["edges"]["needs"] == "hubs"


def test_deploy_steps_preview_then_up_with_the_policy_pack(workflow: dict[str, Any]) -> None:
    hubs, edges = workflow["jobs"]["hubs"], workflow["jobs"]["edges"]
    assert hubs["steps"] == edges["steps"]
    assert hubs["permissions"]["id-token"] == "write" == edges["permissions"]["id-token"]
    pulumi_steps = step(hubs, "pulumi/actions")
    assert [s["with"]["command"] for s in pulumi_steps] == ["preview", "up"]
    pinned = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned
    for action in pulumi_steps:
        assert re.fullmatch(r"pulumi/actions@v\d+", action["uses"])
        assert action["with"]["policyPacks"] == "policies"
        assert action["with"]["stack-name"].endswith("/obsfleet/${{ matrix.stack }}")
        assert action["with"]["pulumi-version"] == pinned[1]
        assert action["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    (aws,) = step(hubs, "aws-actions/configure-aws-credentials")
    (gcp,) = step(hubs, "google-github-actions/auth")
    assert aws["if"] == "matrix.cloud == 'aws'" and gcp["if"] == "matrix.cloud == 'gcp'"
    assert "secrets." not in str(aws) + str(gcp), "cloud access is OIDC, never a stored key"
    positions = [hubs["steps"].index(s) for s in (aws, gcp, *pulumi_steps)]
    assert positions == sorted(positions)
    assert "python3 -m venv venv" in run_parts(hubs)[0]


# --- Pulumi Deployments -----------------------------------------------------------------------------


def _settings(deployments: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = deployments["resources"].values()
    return {r["properties"]["stack"]: r["properties"] for r in resources if r["type"] == "pulumiservice:DeploymentSettings"}


def test_deployment_settings_for_every_stack(deployments: dict[str, Any]) -> None:
    settings = _settings(deployments)
    assert sorted(settings) == stack_names()
    setup, _tests = readme_commands()
    install = [p.strip() for p in setup.split("&&")][:2]
    for name, stack in stacks().items():
        entry = settings[name]
        assert (entry["organization"], entry["project"]) == ("acme", "obsfleet")
        operation = entry["operationContext"]
        assert operation["preRunCommands"] == [*install, f"venv/bin/python -m review preview --stack {name} --quiet"]
        assert operation["options"] == "${options}" and deployments["variables"]["options"]["skipInstallDependencies"]
        assert entry["sourceContext"] == "${main}"
        assert set(operation["oidc"]) == {stack.settings.cloud.value}
        if stack.settings.cloud.value == "aws":
            assert operation["oidc"]["aws"]["roleARN"].endswith(f"obsfleet-deploy-{stack.settings.regime.value}")
        assert entry["github"]["repository"] == "acme/obsfleet"
    assert deployments["variables"]["main"] == {"git": {"branch": "refs/heads/main"}}


def test_hubs_deploy_on_push_and_trigger_their_edges(deployments: dict[str, Any]) -> None:
    settings = _settings(deployments)
    webhooks = [r["properties"] for r in deployments["resources"].values() if r["type"] == "pulumiservice:Webhook"]
    for name, stack in stacks().items():
        paths = settings[name]["github"]["paths"]
        assert f"Pulumi.{name}.yaml" in paths
        if stack.is_hub:
            assert {"components/**", "policies/**", "requirements.txt", "__main__.py"} <= set(paths)
            assert not [w for w in webhooks if w["payloadUrl"] == f"obsfleet/{name}"]
        else:
            assert paths == [f"Pulumi.{name}.yaml"]  # shared code reaches edges through their hub
            (trigger,) = [w for w in webhooks if w["payloadUrl"] == f"obsfleet/{name}"]
            assert trigger["stackName"] == stack.hub
            assert (trigger["format"], trigger["filters"], trigger["active"]) == ("pulumi_deployments", ["update_succeeded"], True)
