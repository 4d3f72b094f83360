"""The fleet review report (review/report.py) and `preview`'s exit codes, on the real example fleet."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pulumi
import pytest
import yaml

import components.fleet
from review import deletion, engine, provenance, report
from review.analyzer import Violation
from review.cli import main
from review.fleet_review import review_fleet
from review.model import StackOutcome
from review.outputs import error_lines, write_outputs
from review.report_schema import REPORT_SCHEMA
from review.stacks import FAKE_SECRET, project_root
from tests.fixture_fleet import STACKS_DIR, load, names
from tests.review.mermaid_check import Flowchart, parse

PEM_MARKER = "PRIVATE KEY"
FAKE_SECRET_PREFIX = FAKE_SECRET.split("{")[0]


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fixture fleet previewed, judged by the pack and written out once for this module."""
    out = tmp_path_factory.mktemp("out")
    outcomes, results = review_fleet(names(), stacks_dir=STACKS_DIR)
    document = report.build(outcomes, provenance.collect(project_root()))
    write_outputs(results, document, out)
    return {"outcomes": outcomes, "results": results, "document": document, "out": out}


def chart_of(document: dict[str, Any]) -> Flowchart:
    return parse(document["residency"]["mermaid"])


def jurisdiction(chart: Flowchart, stack: str) -> str:
    """The regime whose subgraph holds `stack` (subgraph titles start with the regime's name)."""
    node = chart.node_by_label(stack)
    return chart.subgraphs[node.subgraph].label.split()[0].lower()


def red_links(chart: Flowchart) -> list[tuple[str, str]]:
    label = {n.id: n.label.split("<br/>")[0] for n in chart.nodes.values()}
    return [(label[link.source], label[link.target]) for link in chart.links if link.red]


# --- the fixture fleet --------------------------------------------------------------------------------


def test_fixture_fleet_report_has_every_stack_and_is_clean(reviewed: dict[str, Any]) -> None:
    document, out = reviewed["document"], reviewed["out"]
    assert [s["name"] for s in document["stacks"]] == [o.name for o in reviewed["outcomes"]]
    assert sorted(s["name"] for s in document["stacks"]) == names()
    assert all(s["status"] == "ok" and s["mandatory"] == 0 for s in document["stacks"])
    assert document["summary"]["exitCode"] == 0
    assert json.loads((out / "report.json").read_text()) == document
    assert sorted(p.name for p in out.glob("*.json")) == sorted([f"{n}.json" for n in names()] + ["report.json", "report.schema.json"])


def test_every_hub_and_edge_sits_in_its_jurisdiction_with_no_red_arrow(reviewed: dict[str, Any]) -> None:
    chart = chart_of(reviewed["document"])
    for outcome in reviewed["outcomes"]:
        assert jurisdiction(chart, outcome.name) == outcome.config.settings.regime.value, outcome.name
    assert red_links(chart) == []
    flows = {(s, t) for s, t in ((chart.nodes[l.source].label, chart.nodes[l.target].label) for l in chart.links)}
    for outcome in reviewed["outcomes"]:
        if outcome.config.hub:
            assert any(s.startswith(outcome.name + "<br/>") and t.startswith(outcome.config.hub + "<br/>")
                       for s, t in flows), outcome.name


def test_markdown_shows_what_the_json_holds(reviewed: dict[str, Any]) -> None:
    document = reviewed["document"]
    markdown = (reviewed["out"] / "report.md").read_text()
    assert markdown == report.markdown(document)
    assert "```mermaid\n" + document["residency"]["mermaid"] + "```" in markdown
    for stack in document["stacks"]:
        assert f"### `{stack['name']}` ({stack['role']} · {stack['cloud']} {stack['region']}" in markdown
        tree = stack["tree"]
        assert f"- **{tree['name']}** `pulumi:pulumi:Stack`: {tree['resources']} resource" in markdown
        for violation in stack["violations"]:
            assert report._cell(violation["finding"]) in markdown
    for hub in document["deletion"]:
        assert f"`{hub['hub']}` ({hub['regime']}, {hub['tier']})" in markdown
        for capability in hub["signals"]:
            assert f"retention {capability['retention_days']} d" in markdown


def test_component_tree_counts_every_resource_once(reviewed: dict[str, Any]) -> None:
    for stack in reviewed["document"]["stacks"]:
        outcome = next(o for o in reviewed["outcomes"] if o.name == stack["name"])
        customs = [r for r in outcome.resources if r["custom"]]
        assert stack["tree"]["resources"] == len(customs) == stack["resources"]

        def walk(node: dict[str, Any]) -> int:
            assert node["resources"] == sum(node["direct"].values()) + sum(c["resources"] for c in node["children"])
            return 1 + sum(walk(child) for child in node["children"])

        assert walk(stack["tree"]) == stack["components"] + 1


def test_deletion_matrix_covers_every_hub_and_signal(reviewed: dict[str, Any]) -> None:
    hubs = {h["hub"]: h for h in reviewed["document"]["deletion"]}
    assert set(hubs) == {o.name for o in reviewed["outcomes"] if o.config.is_hub}
    for name, hub in hubs.items():
        retention = load(name).settings.retention
        assert {c["signal"]: c["retention_days"] for c in hub["signals"]} == {
            "metrics": retention.metrics, "logs": retention.logs, "traces": retention.traces}


def test_no_secret_value_in_any_written_file(reviewed: dict[str, Any]) -> None:
    written = {p.name: p.read_text() for p in reviewed["out"].iterdir()}
    assert {"report.md", "report.json"} <= set(written)
    for name, text in written.items():
        assert PEM_MARKER not in text, name
        assert FAKE_SECRET_PREFIX not in text, name


def test_the_secret_grep_has_something_to_find(reviewed: dict[str, Any]) -> None:
    """The grep above is only meaningful if the fleet really holds key material and fake secrets."""
    secrets = [v for o in reviewed["outcomes"] for k, v in o.config.engine_config.items() if k in o.config.secret_keys]
    assert secrets and all(v.startswith(FAKE_SECRET_PREFIX) for v in secrets)
    assert any(PEM_MARKER in json.dumps(result.state) for result in reviewed["results"])


def test_a_secure_kubeconfig_reaches_the_provider_masked(stacks_dir: Path) -> None:
    """`secure:` values in a stack file (here the kubeconfig the Kubernetes provider reads) stay
    secret through provider inputs, exports and the report."""
    out = stacks_dir / "out"
    for stack in ("hub", "edge-eu"):
        path = stacks_dir / f"Pulumi.{stack}.yaml"
        path.write_text(path.read_text() + "  obsfleet:kubeconfig:\n    secure: v1:AAAAciphertext\n")
    assert preview(stacks_dir, out, "--stack", "edge-eu", "--quiet") == 0
    for stack in ("hub", "edge-eu"):
        providers = [r for r in json.loads((out / f"{stack}.json").read_text())["deployment"]["resources"]
                     if r["type"] == "pulumi:providers:kubernetes"]
        assert providers and all(p["inputs"]["kubeconfig"] == engine.SECRET for p in providers), stack
    for path in out.iterdir():
        assert FAKE_SECRET_PREFIX not in path.read_text() and "AAAAciphertext" not in path.read_text(), path.name


def test_referenced_stacks_secret_outputs_stay_masked_in_the_export() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
    recording = engine.run_program(
        lambda: pulumi.StackReference("edge-hub", stack_name="acme/obsfleet/hub"),
        stack="edge-eu",
        references={"hub": ({"regime": "gdpr", "adminToken": {"edge-eu": {"key": key}}},
                            frozenset({"adminToken"}))},
    )
    (reference,) = [r for r in recording.resources if r["type"] == "pulumi:pulumi:StackReference"]
    assert reference["outputs"]["outputs"] == {"regime": "gdpr", "adminToken": engine.SECRET}
    assert PEM_MARKER not in json.dumps(recording.resources)


# --- pure pieces ----------------------------------------------------------------------------------------


def test_violations_list_mandatory_first_with_their_remediation() -> None:
    outcome = StackOutcome(load("hub"), violations=[
        Violation("storage-access-logging", "urn:b", "advisory", "no logging. Remediation: add a BucketLogging"),
        Violation("storage-tls-only", "urn:a", "mandatory", "no TLS deny | policy. Remediation: deny aws:SecureTransport=false"),
    ])
    stack = report.build([outcome])["stacks"][0]
    assert [v["enforcement"] for v in stack["violations"]] == ["mandatory", "advisory"]
    assert stack["violations"][0]["finding"] == "no TLS deny | policy."
    assert stack["violations"][0]["remediation"] == "deny aws:SecureTransport=false"
    markdown = report.markdown(report.build([outcome]))
    assert "| mandatory | storage-tls-only | `urn:a` | no TLS deny \\| policy. | deny aws:SecureTransport=false |" in markdown


def test_error_lines_say_why_the_review_fails() -> None:
    """What `preview` prints on stderr even with --quiet: a failed program's error stands for its
    stack; a stack that previewed lists its mandatory violations, one line each."""
    message = "Every bucket is encrypted.\naws:s3/bucket:Bucket 'logs': no SSE-KMS. Remediation: add a key"
    clean = StackOutcome(load("hub"), violations=[
        Violation("storage-encryption-at-rest", "urn:pulumi:hub::obsfleet::aws:s3/bucket:Bucket::logs", "mandatory", message),
        Violation("storage-access-logging", "urn:b", "advisory", "no logging."),
    ])
    failed = StackOutcome(load("edge-eu"), error="Pulumi.edge-eu.yaml: refused", violations=[
        Violation("data-residency-flow", "urn:c", "mandatory", "crosses.")])
    assert list(error_lines(report.build([clean, failed]))) == [
        "hub: storage-encryption-at-rest: aws:s3/bucket:Bucket 'logs': no SSE-KMS.",
        "Pulumi.edge-eu.yaml: refused",
    ]


@pytest.mark.parametrize(
    ("mandatory", "failed", "skipped", "code"),
    [(0, 0, 0, 0), (1, 0, 0, 1), (1, 1, 0, 1), (0, 1, 0, 2), (0, 0, 1, 2)],
)
def test_exit_code(mandatory: int, failed: int, skipped: int, code: int) -> None:
    assert report.exit_code({"mandatory": mandatory, "failed": failed, "skipped": skipped}) == code


def test_component_tree_nests_components_by_parent() -> None:
    root = "urn:pulumi:s::obsfleet::pulumi:pulumi:Stack::obsfleet-s"
    comp = "urn:pulumi:s::obsfleet::obsfleet:index:HubStack::hub"
    sub = "urn:pulumi:s::obsfleet::obsfleet:index:HubStack$obsfleet:index:TempoS3Backend::traces"
    records = [
        {"urn": root, "type": "pulumi:pulumi:Stack", "custom": False},
        {"urn": comp, "type": "obsfleet:index:HubStack", "custom": False, "parent": root},
        {"urn": sub, "type": "obsfleet:index:TempoS3Backend", "custom": False, "parent": comp},
        {"urn": sub + "$b1", "type": "aws:s3/bucket:Bucket", "custom": True, "parent": sub},
        {"urn": sub + "$b2", "type": "aws:s3/bucket:Bucket", "custom": True, "parent": sub},
        {"urn": comp + "$ns", "type": "kubernetes:core/v1:Namespace", "custom": True, "parent": comp},
    ]
    tree = report.component_tree(records)
    assert tree["resources"] == 3
    (hub,) = tree["children"]
    assert (hub["name"], hub["resources"], hub["direct"]) == ("hub", 3, {"kubernetes:core/v1:Namespace": 1})
    assert hub["children"][0]["direct"] == {"aws:s3/bucket:Bucket": 2}
    assert "(direct: aws:s3/bucket:Bucket ×2)" in "\n".join(report._tree_lines(tree))


# --- a mutated fleet, through the CLI --------------------------------------------------------------------


def send_edge_eu_to_hub_us(stacks_dir: Path) -> None:
    path = stacks_dir / "Pulumi.edge-eu.yaml"
    path.write_text(path.read_text().replace("obsfleet:hubStack: hub\n", "obsfleet:hubStack: hub-us\n"))


def refuse(stack_name: str, message: str) -> Callable:
    """A `deploy` that declares everything, then refuses once the hub's outputs are read, as a
    program that checks its hub does (an edge's first run, before its hub signed, reads none)."""
    real = components.fleet.deploy

    async def deploy(settings: Any, stack: str) -> dict[str, Any]:
        outputs = await real(settings, stack)
        if stack == stack_name and "remoteWriteUrl" in outputs:
            read_from_hub = outputs["remoteWriteUrl"]

            def fail(_: Any) -> None:
                raise pulumi.RunError(message)

            outputs["refused"] = pulumi.Output.from_input(read_from_hub).apply(fail)
        return outputs

    return deploy


def preview(stacks_dir: Path, out: Path, *args: str) -> int:
    return main(["preview", "--stacks-dir", str(stacks_dir), "--out", str(out), *args])


def test_edge_sent_to_another_jurisdiction_is_a_red_arrow_and_exit_1(
    stacks_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send_edge_eu_to_hub_us(stacks_dir)
    assert preview(stacks_dir, tmp_path / "out", "--all", "--format", "json") == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document == json.loads((tmp_path / "out" / "report.json").read_text())
    assert "edge-eu:" in captured.err  # progress lines go to stderr with --format json
    chart = chart_of(document)
    assert red_links(chart) == [("edge-eu", "hub-us")]
    assert jurisdiction(chart, "edge-eu") == "gdpr" and jurisdiction(chart, "hub-us") == "ccpa"
    edge = next(s for s in document["stacks"] if s["name"] == "edge-eu")
    flow = [v for v in edge["violations"] if v["policy"] == "data-residency-flow"]
    assert [v["enforcement"] for v in flow] == ["mandatory"]
    assert flow[0]["urn"].endswith("pulumi:pulumi:StackReference::edge-eu-link-hub")
    assert "edge-eu (gdpr) ships to hub-us (ccpa)" in (tmp_path / "out" / "report.md").read_text()


def test_a_program_that_refuses_is_still_reported_with_its_attempted_flow(
    stacks_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    send_edge_eu_to_hub_us(stacks_dir)
    refusal = "obsfleet:hubStack: edge-eu (gdpr) cannot ship to hub-us (ccpa): name a gdpr hub"
    monkeypatch.setattr(components.fleet, "deploy", refuse("edge-eu", refusal))
    assert preview(stacks_dir, tmp_path, "--stack", "edge-eu", "--quiet") == 1  # data-residency-flow fired
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: Pulumi.edge-eu.yaml: {refusal}\n"
    document = json.loads((tmp_path / "report-edge-eu.json").read_text())
    edge = next(s for s in document["stacks"] if s["name"] == "edge-eu")
    assert edge["status"] == "failed" and "cannot ship to hub-us" in edge["error"]
    assert any(v["policy"] == "data-residency-flow" and v["enforcement"] == "mandatory" for v in edge["violations"])
    assert red_links(chart_of(document)) == [("edge-eu", "hub-us")]
    assert f"> **program failed:** Pulumi.edge-eu.yaml: {refusal}" in (tmp_path / "report-edge-eu.md").read_text()
    assert not (tmp_path / "edge-eu.json").exists()  # no export of a stack that did not preview
    assert (tmp_path / "hub-us.json").exists()


def test_a_program_failure_no_policy_explains_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(components.fleet, "deploy", refuse("edge-eu", "edge-eu refuses its hub"))
    assert main(["preview", "--stack", "edge-eu", "--stacks-dir", str(STACKS_DIR), "--out", str(tmp_path)]) == 2
    assert "error: Pulumi.edge-eu.yaml: edge-eu refuses its hub" in capsys.readouterr().err
    document = json.loads((tmp_path / "report-edge-eu.json").read_text())
    assert {s["name"]: s["status"] for s in document["stacks"]} == {"hub": "ok", "edge-eu": "failed", "edge-eu-north": "ok"}
    assert red_links(chart_of(document)) == []


def test_edges_of_a_failed_hub_are_reported_not_previewed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(components.fleet, "deploy", refuse("hub", "the hub refuses"))
    assert main(["preview", "--stack", "edge-eu", "--stacks-dir", str(STACKS_DIR), "--out", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "edge-eu: not previewed: its hub stack 'hub' failed" in out
    assert out.rstrip().splitlines()[-1].startswith("3 stacks (0 ok, 1 failed, 2 not previewed)")
    document = json.loads((tmp_path / "report-edge-eu.json").read_text())
    assert {s["name"]: s["status"] for s in document["stacks"]} == {"hub": "failed", "edge-eu": "skipped", "edge-eu-north": "skipped"}
    assert "NOT PREVIEWED" in chart_of(document).node_by_label("edge-eu").label


# --- what an operator reads first ----------------------------------------------------------------------


def _violation(policy: str, level: str, resource: str) -> Violation:
    return Violation(policy, f"urn:pulumi:x::obsfleet::aws:s3/bucket:Bucket::{resource}", level,
                     f"What the policy wants.\n{resource}: what is wrong. Remediation: fix it")


def mixed_fleet() -> dict[str, Any]:
    """A report over outcomes with every kind of finding: a failed program, a skipped edge,
    mandatory and advisory violations, and hubs' erasure gaps."""
    clean = StackOutcome(load("hub-ap"), policies={"storage-tls-only": "mandatory"})
    advisory = StackOutcome(load("hub-us"), violations=[_violation("storage-access-logging", "advisory", "b1")],
                                   policies={"storage-tls-only": "mandatory", "storage-access-logging": "advisory"})
    mandatory = StackOutcome(load("hub"), violations=[_violation("storage-tls-only", "mandatory", "b2")],
                                    policies={"storage-tls-only": "mandatory", "storage-access-logging": "advisory"})
    failed = StackOutcome(load("edge-eu"), error="Pulumi.edge-eu.yaml: refused")
    skipped = StackOutcome(load("edge-ap-southeast"), error="not previewed", previewed=False)
    outcomes = [clean, advisory, mandatory, failed, skipped]
    stamp = provenance.Provenance("2026-12-07T16:30:00Z", "0" * 40, "0.1.0+abc")
    return report.build(outcomes, stamp)


def test_findings_come_right_under_the_summary_mandatory_first_and_linked_to_their_stack() -> None:
    document = mixed_fleet()
    levels = [f["level"] for f in document["findings"]]
    assert levels == sorted(levels, key=report.LEVEL_ORDER.index) and levels[0] == "mandatory"
    assert {f["stack"] for f in document["findings"] if f["level"] == "failed"} == {"edge-eu", "edge-ap-southeast"}
    markdown = report.markdown(document)
    headings = re.findall(r"^## (.+)$", markdown, re.M)
    assert headings[0] == "Findings"
    summary_end = markdown.index("\n\n", markdown.index("**mandatory policy violations**"))
    assert markdown.index("## Findings") < markdown.index("## Fleet") and summary_end < markdown.index("## Findings")
    first = markdown.splitlines()[markdown.splitlines().index("## Findings") + 2]
    assert first == "- **mandatory** [`hub`](#stack-hub) storage-tls-only `b2`: b2: what is wrong."
    for anchor in set(re.findall(r"\]\(#(stack-[a-z0-9-]+)\)", markdown)):
        assert f'<a id="{anchor}"></a>' in markdown, anchor


def test_failed_and_violating_stacks_lead_the_fleet_table() -> None:
    markdown = report.markdown(mixed_fleet())
    table = markdown[markdown.index("## Fleet"):markdown.index("## Residency map")]
    order = re.findall(r"^\| \[`([a-z-]+)`\]", table, re.M)
    assert order == ["edge-eu", "edge-ap-southeast", "hub", "hub-us", "hub-ap"]


def test_provenance_and_policies_run_are_stated() -> None:
    document = mixed_fleet()
    assert (document["schemaVersion"], document["generatedAt"], document["commit"], document["packVersion"]) == (
        report.SCHEMA_VERSION, "2026-12-07T16:30:00Z", "0" * 40, "0.1.0+abc")
    policies = {p["name"]: p for p in document["policies"]}
    assert policies["storage-tls-only"] == {"name": "storage-tls-only", "enforcement": "mandatory", "stacks": 3,
                                            "violations": 1, "passed": False}
    assert policies["storage-access-logging"]["passed"] is False
    assert "Generated 2026-12-07T16:30:00Z from commit `" + "0" * 40 + "` with policy pack `0.1.0+abc`; 2 policies run, " \
           "0 passed (violated: storage-access-logging, storage-tls-only)." in report.markdown(document)


def test_the_reviews_own_provenance_is_real(reviewed: dict[str, Any]) -> None:
    document = reviewed["document"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["generatedAt"])
    assert document["packVersion"] == provenance.pack_version()
    assert {p["name"] for p in document["policies"]} == set(reviewed["outcomes"][0].policies) != set()
    assert all(p["stacks"] == len(reviewed["outcomes"]) and p["passed"] for p in document["policies"])


def test_residency_crossings_are_defined_where_they_are_counted() -> None:
    markdown = report.markdown(mixed_fleet())
    assert "residency crossings" in markdown.split("\n\n")[1]
    assert markdown.split("\n\n")[1].endswith(f"; {len(mixed_fleet()['findings'])} findings in all.")
    assert report.CROSSINGS_DEFINED in markdown


def test_a_gdpr_or_ccpa_hub_that_cannot_erase_a_signal_gets_an_advisory(reviewed: dict[str, Any]) -> None:
    document = reviewed["document"]
    advisories = {h["hub"]: h["advisories"] for h in document["deletion"]}
    for hub in document["deletion"]:
        gaps = [s["signal"] for s in hub["signals"] if s["status"] != "enabled"]
        if hub["regime"] in ("gdpr", "ccpa"):
            assert len(advisories[hub["hub"]]) == len(gaps) > 0, hub["hub"]
        else:
            assert advisories[hub["hub"]] == [], hub["hub"]
    found = [f for f in document["findings"] if f["source"] == "deletion capability"]
    assert found and all(f["level"] == "advisory" for f in found)
    assert "hub-us (ccpa) cannot erase metrics on request: Prometheus deletion is disabled" in report.markdown(document)


def test_erasure_advisories_follow_the_capability() -> None:
    def capability(status: str) -> deletion.Capability:
        return deletion.Capability("metrics", "Prometheus", "m", "s", status, "why", 30)

    from components.settings import Regime
    assert report.erasure_advisories("h", Regime.GDPR, [capability("enabled")]) == []
    assert report.erasure_advisories("h", Regime.PDPA, [capability("disabled")]) == []
    (text,) = report.erasure_advisories("h", Regime.CCPA, [capability("disabled")])
    assert text == "h (ccpa) cannot erase metrics on request: Prometheus deletion is disabled (why); they live up to 30 days"


def test_hub_sections_show_endpoints_certificates_charts_sizing_and_buckets(reviewed: dict[str, Any]) -> None:
    document = reviewed["document"]
    results = {r.stack: r for r in reviewed["results"]}
    markdown = report.markdown(document)
    for hub in document["hubs"]:
        outputs = results[hub["hub"]].outputs
        assert set(hub["endpoints"].values()) == {outputs["remoteWriteUrl"], outputs["otlpEndpoint"], outputs["lokiPushUrl"]}
        for url in hub["endpoints"].values():
            assert f"`{url}`" in markdown
        settings = load(hub["hub"]).settings
        assert {c["name"] for c in hub["certificates"] if c["role"] == "edge"} == {e.name for e in settings.edges}
        (ca,) = [c for c in hub["certificates"] if c["role"] == "ca"]
        assert all(ca["notAfter"] > c["notAfter"] for c in hub["certificates"] if c["role"] != "ca")
        assert [e["edge"] for e in hub["sizing"]["edges"]] == [e.name for e in settings.edges]
        assert all(e["sized"] and e["walVolumeGiB"] > 0 for e in hub["sizing"]["edges"])
        assert hub["buckets"] and all(b["controls"] and b["violations"] == [] for b in hub["buckets"])
        assert {c["chart"] for c in hub["charts"]} >= {"grafana", "loki"}


# --- report.json's own schema ------------------------------------------------------------------------------


def test_report_schema_is_valid_and_the_written_report_follows_it(reviewed: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)
    validator = jsonschema.Draft202012Validator(REPORT_SCHEMA)
    written = json.loads((reviewed["out"] / "report.json").read_text())
    assert list(validator.iter_errors(written)) == []
    assert json.loads((reviewed["out"] / "report.schema.json").read_text()) == REPORT_SCHEMA
    assert list(validator.iter_errors(mixed_fleet())) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("schemaVersion"),
        lambda d: d.update(schemaVersion=1),
        lambda d: d["summary"].update(exitCode=3),
        lambda d: d["findings"].append({"level": "fatal", "stack": "x", "source": "y", "resource": None, "text": ""}),
        lambda d: d["stacks"][0].update(status="done"),
        lambda d: d.update(generatedAt="yesterday"),
        lambda d: d["hubs"][0]["sizing"].pop("tier"),
        lambda d: d.update(extra=True),
    ],
)
def test_report_schema_rejects_a_changed_shape(mutate: Callable[[dict[str, Any]], Any]) -> None:
    document = copy.deepcopy(mixed_fleet())
    mutate(document)
    assert list(jsonschema.Draft202012Validator(REPORT_SCHEMA).iter_errors(document))


def test_a_prometheus_tier_hub_shared_by_edges_says_no_tenant_isolation(
    stacks_dir: Path, tmp_path: Path, reviewed: dict[str, Any]
) -> None:
    # The fixture fleet: the two-edge hub defaults to Mimir, the single-edge hubs need no isolation.
    assert not [f for f in reviewed["document"]["findings"] if f["source"] == "tenant isolation"]
    hub_file = stacks_dir / "Pulumi.hub.yaml"
    document = yaml.safe_load(hub_file.read_text())
    document["config"]["obsfleet:scale"] = {"tier": "prometheus"}
    hub_file.write_text(yaml.safe_dump(document))
    assert preview(stacks_dir, tmp_path / "out", "--stack", "hub") == 0
    written = json.loads((tmp_path / "out" / "report-hub.json").read_text())
    [finding] = [f for f in written["findings"] if f["source"] == "tenant isolation"]
    assert finding["level"] == "advisory" and finding["stack"] == "hub"
    assert "no tenant isolation" in finding["text"] and "2 edges" in finding["text"]
    [hub] = written["hubs"]
    assert hub["sizing"]["tier"] == "prometheus" and hub["sizing"]["tenantIsolation"] is False
    assert "**no tenant isolation**" in (tmp_path / "out" / "report-hub.md").read_text()
