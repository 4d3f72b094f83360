"""`python -m review audit`: the policy pack over a stack export, exit codes and output shapes."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from review import engine
from review.analyzer import _SIG, UNKNOWN, PackProcess, wire
from review.cli import main
from tests.policies.builders import BUCKET_POLICY, PROJECT, STACK, aws_provider, gcp_provider, gcs_bucket, hardened_s3, stack

EU = aws_provider()


def export(tmp_path: Path, resources: Any, version: Any = 3, name: str = "stack.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"version": version, "deployment": {"manifest": {}, "resources": resources}}))
    return path


def audit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["audit", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_export_exits_0_with_no_violations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = audit(capsys, str(export(tmp_path, [stack(), EU, *hardened_s3("traces", EU)])))
    assert (code, json.loads(out)) == (0, {"violations": []})


def test_mandatory_violation_exits_1_with_each_violation_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    resources = [stack(), EU, *hardened_s3("traces", EU, omit=[BUCKET_POLICY])]
    code, out, _ = audit(capsys, str(export(tmp_path, resources)))
    (violation,) = json.loads(out)["violations"]
    assert code == 1
    assert set(violation) == {"policy", "urn", "enforcement", "message"}
    assert (violation["policy"], violation["enforcement"]) == ("storage-tls-only", "mandatory")
    assert violation["urn"] == resources[2]["urn"] and "Remediation:" in violation["message"]


def test_advisory_only_exits_0_and_text_format_lists_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ap = gcp_provider()
    path = export(tmp_path, [stack(), ap, gcs_bucket("traces", ap, logging=None)])
    code, out, _ = audit(capsys, str(path), "--format", "text")
    assert code == 0
    lines = out.splitlines()
    # What it judged comes first: the stack, how many resources, with how many policies.
    assert re.fullmatch(rf"audit of stack {STACK} \(project {PROJECT}\): 3 resources judged by "
                        r"(\d+) policies \((\d+) advisory, (\d+) mandatory\)", lines[0]), lines[0]
    judged_by = int(re.search(r"judged by (\d+) policies", lines[0])[1])
    with PackProcess(project=PROJECT, stack=STACK) as pack:
        assert judged_by == len(pack.info.policies) > 0
    assert lines[1] == f"[advisory] storage-access-logging  {gcs_bucket('traces', ap)['urn']}"
    assert lines[-1] == "1 violation(s), 0 mandatory"


def test_text_format_counts_the_policies_the_config_leaves_enabled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "policy.yaml"
    config.write_text("storage-tls-only: disabled\nstorage-access-logging: disabled\n")
    path = export(tmp_path, [stack(), EU])
    _, full, _ = audit(capsys, str(path), "--format", "text")
    _, fewer, _ = audit(capsys, str(path), "--format", "text", "--policy-config", str(config))
    count = lambda out: int(re.search(r"judged by (\d+) policies", out)[1])  # noqa: E731
    assert count(fewer) == count(full) - 2 and ": 2 resources judged" in fewer


@pytest.mark.parametrize("suffix, text", [
    ("yaml", "all: advisory\n"),
    ("json", '{"storage-tls-only": {"enforcementLevel": "advisory"}}'),
])
def test_policy_config_file_changes_levels(tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, text: str) -> None:
    config = tmp_path / f"policy.{suffix}"
    config.write_text(text)
    path = export(tmp_path, [stack(), EU, *hardened_s3("traces", EU, omit=[BUCKET_POLICY])])
    code, out, _ = audit(capsys, str(path), "--policy-config", str(config))
    assert code == 0 and [v["enforcement"] for v in json.loads(out)["violations"]] == ["advisory"]


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "No such file or directory"),
        ("{not json", "not JSON (Expecting property name"),
        ("[]", "not a `pulumi stack export` document"),
        ('{"version": 3}', "not a `pulumi stack export` document"),
        ('{"version": 1, "deployment": {}}', "stack export version 1 is not supported (expected 3)"),
        ('{"version": 3, "deployment": {"resources": {}}}', "deployment.resources is not a list"),
        ('{"version": 3, "deployment": {"resources": [{"type": "x"}]}}', "resources[0]: `urn` is not a non-empty string"),
        ('{"version": 3, "deployment": {"resources": [{"urn": "u", "type": "t", "inputs": []}]}}', "`inputs` is not a dict"),
        ('{"version": 3, "deployment": {"resources": [{"urn": "u", "type": "t", "propertyDependencies": {"a": "u"}}]}}',
         "dependencies must be lists of URNs"),
    ],
)
def test_not_a_stack_export_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  content: Any, reason: str) -> None:
    path = tmp_path / "export.json"
    if content is not None:
        path.write_text(content)
    code, out, err = audit(capsys, str(path))
    assert (code, out) == (2, "")
    assert reason in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "config, reason",
    [
        ("- a list\n", "must be a mapping of policy name"),
        ("key: [unclosed\n", "not valid YAML"),
        ("storage-tls: mandatory\n", "no policy 'storage-tls'"),
        ("data-residency-region:\n  regime: hipaa\n", "'hipaa' is not one of"),
    ],
)
def test_bad_policy_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, reason: str) -> None:
    (tmp_path / "policy.yaml").write_text(config)
    path = export(tmp_path, [stack()])
    code, _, err = audit(capsys, str(path), "--policy-config", str(tmp_path / "policy.yaml"))
    assert code == 2 and reason in err and err.count("\n") == 1


# --- acceptance: mistakes in the example fleet's own state ------------------------------------------
# The program refuses these mistakes before declaring anything (an out-of-boundary
# obsfleet:replicaRegion fails settings validation; an edge refuses a hub of another regime), so no
# config can make it emit them. State can still hold them (hand-edited stacks, another program,
# drift), which is what `audit` is for: each scenario edits a real preview's export the way such
# state looks, and exactly the policy for that mistake fires, on that resource.


def _named(resources: list[dict], name: str) -> dict:
    return next(r for r in resources if r["urn"].rsplit("::", 1)[1] == name)


def _replica_in_us_east_1(fleet: dict[str, engine.PreviewResult], resources: list[dict]) -> set[tuple[str, str]]:
    replica = _named(resources, "hub-eu-traces-replica-bucket")
    replica["inputs"]["region"] = replica["outputs"]["region"] = "us-east-1"
    return {("data-residency-region", replica["urn"]),
            ("data-residency-replication", _named(resources, "hub-eu-traces-replication")["urn"])}


def _bucket_without_lifecycle(fleet: dict[str, engine.PreviewResult], resources: list[dict]) -> set[tuple[str, str]]:
    resources.remove(_named(resources, "hub-eu-traces-bucket-lifecycle"))
    return {("storage-retention-lifecycle", _named(resources, "hub-eu-traces-bucket")["urn"])}


def _edge_reads_hub_us(fleet: dict[str, engine.PreviewResult], resources: list[dict]) -> set[tuple[str, str]]:
    reference = _named(resources, "edge-eu-link-hub")
    reference["inputs"]["name"] = reference["outputs"]["name"] = "acme/obsfleet/hub-us"
    reference["outputs"]["outputs"] = copy.deepcopy(fleet["hub-us"].masked_outputs)
    return {("data-residency-flow", reference["urn"])}


STATE_MISTAKES: dict[str, tuple[str, Callable[..., set[tuple[str, str]]]]] = {
    "replica in us-east-1 for gdpr": ("hub", _replica_in_us_east_1),
    "bucket without lifecycle": ("hub", _bucket_without_lifecycle),
    "edge pointed at a ccpa hub": ("edge-eu", _edge_reads_hub_us),
}


@pytest.mark.parametrize("scenario", STATE_MISTAKES)
def test_each_mistake_in_an_example_stack_fires_exactly_its_policy(
    fleet: dict[str, engine.PreviewResult], tmp_path: Path, capsys: pytest.CaptureFixture[str], scenario: str
) -> None:
    stack_name, mistake = STATE_MISTAKES[scenario]
    resources = copy.deepcopy(fleet[stack_name].resources)
    expected = mistake(fleet, resources)
    code, out, _ = audit(capsys, str(export(tmp_path, resources)))
    mandatory = {(v["policy"], v["urn"]) for v in json.loads(out)["violations"] if v["enforcement"] == "mandatory"}
    assert (code, mandatory) == (1, expected)


def test_the_example_stacks_audit_clean(fleet: dict[str, engine.PreviewResult], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("hub", "edge-eu"):
        code, out, _ = audit(capsys, str(export(tmp_path, fleet[name].resources, name=f"{name}.json")))
        assert (code, json.loads(out)) == (0, {"violations": []}), name


def test_a_signature_of_the_wrong_type_is_an_unknown_value_not_a_crash() -> None:
    # A hand-edited export may carry anything under the signature key; it is not decodable.
    assert wire({_SIG: ["not", "a", "signature"], "text": "x"}) == UNKNOWN
    assert wire({"kept": {_SIG: {"nested": 1}}}) == {"kept": UNKNOWN}


def test_the_programs_own_stack_is_judged_resource_by_resource(fleet: dict[str, engine.PreviewResult]) -> None:
    """Its ResidencyBoundary declares regime and countries as inputs, so Analyze alone (what an update
    checks before creating each resource) stops a bucket declared outside the boundary, without config."""
    resources = copy.deepcopy(fleet["hub"].resources)
    replica = _named(resources, "hub-eu-traces-replica-bucket")
    with PackProcess(project=PROJECT, stack="hub", dry_run=False) as pack:
        assert pack.run(resources, whole_stack=False) == []
        replica["inputs"]["region"] = "us-east-1"
        before_create = pack.run(resources, whole_stack=False)
    assert [(v.policy, v.urn, v.enforcement) for v in before_create] == [
        ("data-residency-region", replica["urn"], "mandatory")]
