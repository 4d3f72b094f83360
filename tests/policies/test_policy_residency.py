"""The data-residency policies' plain check functions."""

from __future__ import annotations

from typing import Optional

import pytest

from policies.obsfleet_residency import data_residency_flow, data_residency_region, data_residency_replication, data_residency_unverifiable
from policies.obsfleet_residency._policy import Finding
from review.analyzer import UNKNOWN
from tests.policies.builders import (
    BUCKET,
    aws_provider,
    hardened_s3,
    named,
    replication,
    resource,
    s3_bucket,
    stack,
    stack_reference,
    stack_resources,
)

EU = aws_provider("boundary-aws", region="eu-central-1", regime="gdpr")
EU_REPLICA = aws_provider("boundary-aws-replica", region="eu-west-1", regime="gdpr")


def region(entry: dict, resources: list[dict], config: Optional[dict] = None) -> list[Finding]:
    """data-residency-region's findings on `entry`, in a stack of `resources`."""
    return [f for f in data_residency_region.check(stack_resources(resources), config or {}) if f.urn == entry["urn"]]


def judged(check, resources: list[dict], config: Optional[dict] = None) -> list[Finding]:
    return list(check(stack_resources(resources), config or {}))


# --- data-residency-region --------------------------------------------------------------------


def test_region_inside_the_boundary_passes() -> None:
    bucket = resource(BUCKET, "b", provider=EU)
    assert region(bucket, [EU, bucket]) == []


def test_region_outside_the_boundary_is_a_violation_naming_region_and_remedy() -> None:
    bucket = resource(BUCKET, "b", {"region": "us-east-1"}, provider=EU)
    (found,) = region(bucket, [EU, bucket])
    assert found.certain and found.urn == bucket["urn"]
    assert "us-east-1 (US East (N. Virginia), US), outside the gdpr boundary" in found.message
    assert "Remediation: declare the resource through the stack's ResidencyBoundary" in found.message


def test_gb_is_outside_gdpr_unless_adequacy_is_allowed() -> None:
    bucket = resource(BUCKET, "b", {"region": "eu-west-2"}, provider=EU)
    assert [f.certain for f in region(bucket, [EU, bucket])] == [True]
    assert region(bucket, [EU, bucket], {"allowAdequacy": True}) == []


def test_policy_config_regime_overrides_the_tag() -> None:
    bucket = resource(BUCKET, "b", provider=EU)
    (found,) = region(bucket, [EU, bucket], {"regime": "ccpa"})
    assert "outside the ccpa boundary (from the policy config" in found.message


def test_unknown_region_is_reported_uncertain_not_passed() -> None:
    bucket = resource(BUCKET, "b", {"region": UNKNOWN}, provider=EU)
    (found,) = region(bucket, [EU, bucket])
    assert not found.certain and "cannot verify its region" in found.message


def test_no_regime_means_region_is_not_judged_here() -> None:
    untagged = aws_provider(regime=None)
    bucket = resource(BUCKET, "b", {"region": "us-east-1"}, provider=untagged)
    assert region(bucket, [untagged, bucket]) == []  # data-residency-unverifiable says so instead


# --- data-residency-replication -----------------------------------------------------------------


def _replicated(replica_region_provider: dict, arn: object = None) -> list[dict]:
    source = hardened_s3("traces", EU)
    replica = hardened_s3("replica", replica_region_provider)
    return [EU, replica_region_provider, *source, *replica, replication(source[0], replica[0], EU, arn)]


def test_replication_inside_the_boundary_passes() -> None:
    assert judged(data_residency_replication.check, _replicated(EU_REPLICA)) == []


def test_replication_to_a_region_outside_is_a_violation_on_the_replication_config() -> None:
    us = aws_provider("boundary-aws-us", region="us-east-1", regime="gdpr")
    resources = _replicated(us)
    replication_urn = named(resources, "traces-replication")["urn"]
    found = judged(data_residency_replication.check, resources)
    (replicated,) = [f for f in found if f.urn == replication_urn]
    assert replicated.certain and "replicates to bucket 'replica' in us-east-1" in replicated.message
    # The replica's own access logs land in its (US) log bucket too.
    assert {f.urn for f in found} == {replication_urn, named(resources, "replica-bucketlogging")["urn"]}


def test_destination_found_by_dependency_when_its_arn_is_unknown() -> None:
    us = aws_provider("boundary-aws-us", region="us-east-1", regime="gdpr")
    resources = _replicated(us, arn=UNKNOWN)
    replication_urn = named(resources, "traces-replication")["urn"]
    (found,) = [f for f in judged(data_residency_replication.check, resources) if f.urn == replication_urn]
    assert found.certain and "replica" in found.message


def test_destination_outside_the_stack_is_a_violation() -> None:
    source = hardened_s3("traces", EU)
    config = resource(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "external",
        {"bucket": source[0]["outputs"]["bucket"], "rules": [{"destination": {"bucket": "arn:aws:s3:::elsewhere"}}]},
        provider=EU, deps={"bucket": [source[0]]},
    )
    (found,) = judged(data_residency_replication.check, [EU, *source, config])
    assert found.certain and "'arn:aws:s3:::elsewhere', which this stack does not declare" in found.message


def test_inline_bucket_replication_is_judged_too() -> None:
    us = aws_provider("us", region="us-west-2", regime="gdpr")
    destination = s3_bucket("replica", us)[0]
    source = resource(BUCKET, "legacy", outputs={"bucket": "legacy-0abc", "replicationConfiguration": {
        "role": "r", "rules": [{"destination": {"bucket": destination["outputs"]["arn"]}}]}}, provider=EU)
    (found,) = judged(data_residency_replication.check, [EU, us, source, destination])
    assert found.certain and found.urn == source["urn"] and "us-west-2" in found.message


MRAP = "aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint"


@pytest.mark.parametrize(("type_", "inputs"), [
    (MRAP, {"details": [{"name": "g", "regions": [{"bucket": "elsewhere"}]}]}),  # one object, or a list of one
    ("aws-native:s3:MultiRegionAccessPoint", {"name": "g", "regions": [{"bucket": "elsewhere"}]}),
    ("gcp:storage/transferJob:TransferJob", {"transferSpec": [{"gcsDataSink": [{"bucketName": "elsewhere"}]}]}),
    ("gcp:logging/folderSink:FolderSink", {"folder": "f", "destination": " storage.googleapis.com/elsewhere"}),
])
def test_every_shape_of_a_copy_to_a_bucket_outside_the_stack_is_a_violation(type_: str, inputs: dict) -> None:
    (found,) = judged(data_residency_replication.check, [stack(), EU, resource(type_, "mover", inputs, provider=EU)])
    assert found.certain and "'elsewhere', which this stack does not declare" in found.message


@pytest.mark.parametrize(("type_", "inputs"), [
    (MRAP, {"details": UNKNOWN}),
    (MRAP, {"details": {"name": "g", "regions": UNKNOWN}}),
    ("gcp:storage/transferJob:TransferJob", {"transferSpec": UNKNOWN}),
    ("aws:datasync/task:Task", {"destinationLocationArn": UNKNOWN}),
    ("gcp:logging/projectSink:ProjectSink", {"destination": UNKNOWN}),
    ("gcp:logging/projectSink:ProjectSink", {"destination": "bigquery.googleapis.com/projects/p/datasets/d"}),
])
def test_a_copy_whose_destination_cannot_be_placed_is_reported_uncertain(type_: str, inputs: dict) -> None:
    (found,) = judged(data_residency_replication.check, [stack(), EU, resource(type_, "mover", inputs, provider=EU)])
    assert not found.certain and "cannot verify where it" in found.message


# --- data-residency-flow -----------------------------------------------------------------------


def _edge(hub_outputs: dict, secret: tuple[str, ...] = ()) -> list[dict]:
    return [stack(), EU, resource(BUCKET, "b", provider=EU), stack_reference("acme/obsfleet/hub-us", hub_outputs, secret)]


def test_flow_to_a_hub_of_the_same_regime_passes() -> None:
    assert judged(data_residency_flow.check, _edge({"regime": "gdpr"})) == []


def test_flow_to_a_hub_of_another_regime_is_a_violation_on_the_stack_reference() -> None:
    resources = _edge({"regime": "ccpa"})
    (found,) = judged(data_residency_flow.check, resources)
    assert found.certain and found.urn == resources[-1]["urn"]
    assert "gdpr stack reads stack acme/obsfleet/hub-us, whose regime is 'ccpa'" in found.message


def test_flow_regime_that_is_secret_or_missing_cannot_be_verified() -> None:
    for outputs, secret in (({"regime": "[secret]"}, ("regime",)), ({"region": "us-east-1"}, ())):
        (found,) = judged(data_residency_flow.check, _edge(outputs, secret))
        assert not found.certain


def test_flow_without_any_regime_for_this_stack_cannot_be_verified() -> None:
    untagged = aws_provider(regime=None)
    (found,) = judged(data_residency_flow.check, [untagged, stack_reference("hub", {"regime": "ccpa"})])
    assert not found.certain and "this stack's regime is unknown" in found.message
    (found,) = judged(data_residency_flow.check, [untagged, stack_reference("hub", {"regime": "ccpa"})], {"regime": "gdpr"})
    assert found.certain


# --- data-residency-unverifiable ----------------------------------------------------------------


def test_unverifiable_collects_what_the_mandatory_policies_could_not_see() -> None:
    unknown_region = resource(BUCKET, "computed", outputs={"region": UNKNOWN}, provider=EU)
    resources = [stack(), EU, unknown_region, *_edge({"regime": "[secret]"})[2:]]
    found = judged(data_residency_unverifiable.regions, resources) + judged(data_residency_flow.check, resources)
    assert sorted(f.urn.rsplit("::", 1)[1] for f in found if not f.certain) == ["acme/obsfleet/hub-us", "computed"]


def test_resources_without_a_regime_are_summarised_once_on_the_stack() -> None:
    untagged = aws_provider(regime=None)
    resources = [stack(), untagged] + [resource(BUCKET, f"b{i}", provider=untagged) for i in range(5)]
    (found,) = judged(data_residency_unverifiable.regions, resources)
    assert not found.certain and found.urn == resources[0]["urn"]
    assert "residency was not checked for 5 resource(s) (b0, b1, b2, ...)" in found.message


def test_logging_reported_off_sends_no_access_logs_anywhere() -> None:
    """pulumi-aws reports logging that is off as an empty target; GCS buckets may have no logging."""
    s3 = resource(BUCKET, "b", outputs={"bucket": "b-0abc", "logging": {"targetBucket": "", "targetPrefix": ""},
                                        "loggings": []}, provider=EU)
    assert judged(data_residency_replication.check, [stack(), EU, s3]) == []
    s3["outputs"]["logging"]["targetBucket"] = "central-logs"
    (found,) = judged(data_residency_replication.check, [stack(), EU, s3])
    assert found.certain and "sends its access logs to bucket 'central-logs'" in found.message
