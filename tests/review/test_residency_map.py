"""review/residency_map.py: where each stack's data sits and which flows cross a boundary."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.mermaid import render
from review.model import StackOutcome
from review.residency_map import OUTSIDE, MapFlow, ResidencyMap, residency_map
from review.stacks import load
from tests import fixture_fleet
from tests.review.mermaid_check import parse

BUCKET = "aws:s3/bucket:Bucket"
GCS = "gcp:storage/bucket:Bucket"


def _bucket(stack: str, name: str, *, cloud: str = "aws", provider: str = "", **inputs: object) -> dict:
    kind = BUCKET if cloud == "aws" else GCS
    record = {
        "urn": f"urn:pulumi:{stack}::obsfleet::obsfleet:index:TempoS3Backend${kind}::{name}",
        "custom": True,
        "type": kind,
        "inputs": dict(inputs),
        "outputs": {"bucket": f"{name}-abc", "arn": f"arn:aws:s3:::{name}-abc"},
    }
    if provider:
        record["provider"] = f"{provider}::id-1"
    return record


def _provider(stack: str, name: str, region: str) -> dict:
    return {
        "urn": f"urn:pulumi:{stack}::obsfleet::obsfleet:index:ResidencyBoundary$pulumi:providers:aws::{name}",
        "custom": True,
        "type": "pulumi:providers:aws",
        "inputs": {"region": region},
    }


def _replication(stack: str, source: dict, destination: dict, *, by_dependency: bool) -> dict:
    record = {
        "urn": f"urn:pulumi:{stack}::obsfleet::aws:s3/bucketReplicationConfig:BucketReplicationConfig::r",
        "custom": True,
        "type": "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "inputs": {"bucket": source["outputs"]["bucket"],
                   "rules": [{"destination": {"bucket": destination["outputs"]["arn"]}}]},
    }
    if by_dependency:
        record["propertyDependencies"] = {"bucket": [source["urn"]], "rules": [destination["urn"]]}
    return record


def _flows(residency: ResidencyMap) -> dict[tuple[str, str], MapFlow]:
    return {(f.source, f.target): f for f in residency.flows}


@pytest.mark.parametrize("by_dependency", [True, False])
def test_buckets_and_replicas_sit_where_their_data_is(by_dependency: bool) -> None:
    primary_provider = _provider("hub", "boundary-aws", "eu-central-1")
    replica_provider = _provider("hub", "boundary-aws-replica", "eu-west-1")
    primary = _bucket("hub", "traces", provider=primary_provider["urn"])
    replica = _bucket("hub", "traces-replica", provider=replica_provider["urn"])
    stray = _bucket("hub", "stray", region="us-east-1")
    resources = [primary_provider, replica_provider, primary, replica, stray,
                 _replication("hub", primary, replica, by_dependency=by_dependency)]
    residency = residency_map([StackOutcome(fixture_fleet.load("hub"), resources)])
    nodes = {n.key: n for n in residency.nodes}
    assert nodes[primary["urn"]].jurisdiction == "gdpr" and "aws eu-central-1" in nodes[primary["urn"]].label
    assert nodes[replica["urn"]].jurisdiction == "gdpr" and "aws eu-west-1" in nodes[replica["urn"]].label
    assert nodes[stray["urn"]].jurisdiction == "ccpa"  # where its data sits, not where it belongs
    flows = _flows(residency)
    assert not flows[("hub", primary["urn"])].crossing
    assert flows[(primary["urn"], replica["urn"])].label == "replicates"
    assert not flows[(primary["urn"], replica["urn"])].crossing
    assert ("hub", replica["urn"]) not in flows  # a replica is fed by its source, not the hub
    stray_flow = flows[("hub", stray["urn"])]
    assert stray_flow.crossing and "us-east-1 (US), outside gdpr" in stray_flow.reason


def test_replication_out_of_the_stack_and_unknown_locations_are_crossings() -> None:
    primary = _bucket("hub", "logs", region="eu-central-1")
    elsewhere = {"outputs": {"arn": "arn:aws:s3:::someone-elses-bucket"}, "urn": "urn:not-here"}
    unplaced = _bucket("hub", "unplaced")  # no region and no provider
    resources = [primary, unplaced, _replication("hub", primary, elsewhere, by_dependency=False)]
    residency = residency_map([StackOutcome(fixture_fleet.load("hub"), resources)])
    flows = _flows(residency)
    external = flows[(primary["urn"], "arn:aws:s3:::someone-elses-bucket")]
    assert external.crossing and "location is unknown" in external.reason
    assert flows[("hub", unplaced["urn"])].crossing
    assert {n.key: n for n in residency.nodes}[unplaced["urn"]].jurisdiction == OUTSIDE
    parse(render(residency))


def test_gcs_bucket_location_is_judged_by_the_catalog() -> None:
    inside = _bucket("hub-ap", "traces", cloud="gcp", location="ASIA-SOUTHEAST1")
    europe = _bucket("hub-ap", "eu", cloud="gcp", location="EU")
    residency = residency_map([StackOutcome(fixture_fleet.load("hub-ap"), [inside, europe])])
    flows = _flows(residency)
    assert not flows[("hub-ap", inside["urn"])].crossing
    assert flows[("hub-ap", europe["urn"])].crossing
    assert {n.key: n.jurisdiction for n in residency.nodes}[europe["urn"]] == "gdpr"


def test_an_edge_on_another_regimes_hub_is_a_crossing_even_when_its_program_failed(stacks_dir: Path) -> None:
    path = stacks_dir / "Pulumi.edge-eu.yaml"
    path.write_text(path.read_text().replace("obsfleet:hubStack: hub\n", "obsfleet:hubStack: hub-us\n"))
    outcomes = [StackOutcome(load("hub-us", stacks_dir)), StackOutcome(load("edge-eu", stacks_dir), error="refused")]
    residency = residency_map(outcomes)
    (flow,) = residency.flows
    assert (flow.source, flow.target, flow.crossing) == ("edge-eu", "hub-us", True)
    assert flow.reason == "edge-eu (gdpr) ships to hub-us (ccpa)"
    chart = parse(render(residency))
    node = chart.node_by_label("edge-eu")
    assert "FAILED" in node.label and "failed" in node.classes
    assert chart.subgraphs[node.subgraph].label.startswith("GDPR jurisdiction")
    assert [link.label for link in chart.links] == ["edge-eu (gdpr) ships to hub-us (ccpa)"]
