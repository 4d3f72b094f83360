"""CI and Pulumi Deployments setup: valid YAML that runs the README's commands for every stack, hubs first."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from review.stacks import project_root
from tests import fixture_fleet

ROOT = project_root()
WORKFLOW = ROOT / ".github" / "workflows" / "review.yml"
DEPLOYMENTS_DOC = ROOT / "docs" / "deployments.md"


def fixture_stacks() -> dict[str, Any]:
    return {name: fixture_fleet.load(name) for name in fixture_fleet.names()}


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
    assert all("github.event_name == 'push'" in jobs[j]["if"] for j in ("plan", "edge-requests", "hubs", "edges"))


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


def plan_commands(workflow: dict[str, Any]) -> dict[str, list[str]]:
    """The `plan` job's output name -> the command whose stdout it holds."""
    (stacks_step,) = [s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "stacks"]
    found = re.findall(r'^echo "(\w+)=\$\((.*)\)" >> "\$GITHUB_OUTPUT"$', stacks_step["run"], re.M)
    return {name: command.split() for name, command in found}


@pytest.mark.parametrize(("job", "role"), [("edge-requests", "edge"), ("hubs", "hub"), ("edges", "edge")])
def test_main_deploys_the_stacks_the_files_define_edge_hub_edge(workflow: dict[str, Any], job: str, role: str) -> None:
    plan, deploy = workflow["jobs"]["plan"], workflow["jobs"][job]
    key = f"{role}s"
    assert plan["if"] == "github.event_name == 'push'"
    assert "venv/bin/python -m review stacks" in " ".join(run_parts(plan))
    assert plan_commands(workflow)[key] == ["venv/bin/python", "-m", "review", "stacks", "--role", role, "--format", "matrix"]
    assert plan["outputs"][key] == f"${{{{ steps.stacks.outputs.{key} }}}}"
    assert deploy["strategy"]["matrix"] == f"${{{{ fromJSON(needs.plan.outputs.{key}) }}}}"
    assert "plan" in deploy["needs"]
    # An empty matrix fails a job: no stacks of the role, no job.
    assert f"needs.plan.outputs.{key} != '{{\"include\":[]}}'" in deploy["if"]
    assert deploy["if"].startswith(("github.event_name == 'push'", "!cancelled() && github.event_name == 'push'"))


def test_onboarding_order_is_edge_requests_then_hubs_then_edges(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert jobs["edge-requests"]["needs"] == "plan"
    assert jobs["hubs"]["needs"] == ["plan", "edge-requests"]
    assert jobs["edges"]["needs"] == ["plan", "hubs"]
    # One edge's failed first pass fails the hub listing it (no request), not every hub.
    assert jobs["hubs"]["if"].startswith("!cancelled() && ") and "needs.plan.result == 'success'" in jobs["hubs"]["if"]


def test_the_org_is_not_written_in_the_workflow(workflow: dict[str, Any]) -> None:
    assert "acme" not in WORKFLOW.read_text(), "the org comes from Pulumi.yaml through the plan's matrix"
    assert "env" not in workflow


def test_deploy_steps_preview_then_up_with_the_policy_pack(workflow: dict[str, Any]) -> None:
    hubs, edges = workflow["jobs"]["hubs"], workflow["jobs"]["edges"]
    assert hubs["steps"] == edges["steps"] == workflow["jobs"]["edge-requests"]["steps"]
    assert hubs["permissions"]["id-token"] == "write" == edges["permissions"]["id-token"]
    pulumi_steps = step(hubs, "pulumi/actions")
    assert [s["with"]["command"] for s in pulumi_steps] == ["preview", "up"]
    pinned = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned
    for action in pulumi_steps:
        assert re.fullmatch(r"pulumi/actions@v\d+", action["uses"])
        assert action["with"]["policyPacks"] == "policies"
        assert action["with"]["stack-name"] == "${{ matrix.stack-name }}"  # <org>/obsfleet/<stack>, org from Pulumi.yaml
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
    """The documented program is written for the fleet as shipped (the fixture fleet's stacks)."""
    settings = _settings(deployments)
    assert sorted(settings) == fixture_fleet.names()
    setup, _tests = readme_commands()
    install = [p.strip() for p in setup.split("&&")][:2]
    for name, stack in fixture_stacks().items():
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
    for name, stack in fixture_stacks().items():
        paths = settings[name]["github"]["paths"]
        assert f"Pulumi.{name}.yaml" in paths
        if stack.is_hub:
            assert {"components/**", "policies/**", "requirements.lock", "__main__.py"} <= set(paths)
            assert not [w for w in webhooks if w["payloadUrl"] == f"obsfleet/{name}"]
        else:
            assert paths == [f"Pulumi.{name}.yaml"]  # shared code reaches edges through their hub
            (trigger,) = [w for w in webhooks if w["payloadUrl"] == f"obsfleet/{name}"]
            assert trigger["stackName"] == stack.hub
            assert (trigger["format"], trigger["filters"], trigger["active"]) == ("pulumi_deployments", ["update_succeeded"], True)
