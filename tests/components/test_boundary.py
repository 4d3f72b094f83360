"""ResidencyBoundary: refuses locations outside its regime, and owns every provider of a stack."""

from __future__ import annotations

import json

import pytest

from components.regions import Cloud, Regime
from components.boundary import ResidencyBoundary, ResidencyBoundaryArgs
from components.residency import ResidencyError
from review import engine
from review.engine import run_program

BUILTIN_TYPES = ("pulumi:pulumi:", "pulumi:providers:")
CLOUD_TAGGED = {"pulumi:providers:aws": "defaultTags", "pulumi:providers:gcp": "defaultLabels"}


def _object(value: object) -> dict:
    # Provider inputs that are objects travel JSON-encoded, as in a real stack export.
    return json.loads(value) if isinstance(value, str) else value


def _boundary(**overrides) -> dict[str, ResidencyBoundary]:
    args = dict(regime=Regime.GDPR, cloud=Cloud.AWS, region="eu-central-1", stack="hub", cluster="hub-eu")
    made: dict[str, ResidencyBoundary] = {}

    def program() -> None:
        made["boundary"] = ResidencyBoundary("boundary", ResidencyBoundaryArgs(**{**args, **overrides}))

    return {"boundary": made, "recording": run_program(program, stack="hub")}


def test_aws_providers_are_pinned_and_tagged() -> None:
    recording = _boundary(replica_region="eu-west-1")["recording"]
    providers = {r["urn"].rsplit("::", 1)[1]: r for r in recording.resources if r["type"] == "pulumi:providers:aws"}
    assert providers["boundary-aws"]["inputs"]["region"] == "eu-central-1"
    assert providers["boundary-aws-replica"]["inputs"]["region"] == "eu-west-1"
    for provider in providers.values():
        tags = _object(provider["inputs"]["defaultTags"])["tags"]
        assert tags == {"data-residency": "gdpr", "obsfleet-stack": "hub", "obsfleet-cluster": "hub-eu"}


def test_gcp_provider_has_project_region_and_labels() -> None:
    recording = _boundary(regime=Regime.PDPA, cloud=Cloud.GCP, region="asia-southeast1", project="acme-obs-ap")["recording"]
    (gcp,) = [r for r in recording.resources if r["type"] == "pulumi:providers:gcp"]
    assert gcp["inputs"]["region"] == "asia-southeast1" and gcp["inputs"]["project"] == "acme-obs-ap"
    assert _object(gcp["inputs"]["defaultLabels"])["data-residency"] == "pdpa"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"region": "us-east-1"}, r"^obsfleet:region: 'us-east-1' \(US\) is outside the gdpr boundary \(allowed: AT, BE, BG, "),
        ({"region": "eu-west-2"}, r"'eu-west-2' \(GB\) is outside the gdpr boundary"),
        ({"replica_region": "eu-central-2"}, r"^obsfleet:replicaRegion: 'eu-central-2' \(CH\) is outside the gdpr"),
        ({"region": "mars-north-1"}, r"^obsfleet:region: unknown aws region 'mars-north-1'"),
        ({"regime": Regime.PDPA, "region": "ap-southeast-2"}, r"'ap-southeast-2' \(AU\) is outside the pdpa boundary"),
    ],
)
def test_outside_the_boundary_declares_nothing(overrides: dict, message: str) -> None:
    declared: list[dict] = []

    def program() -> None:
        ResidencyBoundary("boundary", ResidencyBoundaryArgs(
            **{**dict(regime=Regime.GDPR, cloud=Cloud.AWS, region="eu-central-1", stack="s", cluster="c"), **overrides}
        ))

    with pytest.raises(ResidencyError, match=message):
        run_program(program, stack="s", declared=declared)
    assert [r["type"] for r in declared if not r["type"].startswith("pulumi:pulumi:")] == []


def test_adequacy_and_country_overrides() -> None:
    london = _boundary(region="eu-west-2", allow_adequacy=True)["boundary"]["boundary"]
    assert "GB" in london.countries and london.contains("eu-central-2")
    nordic = _boundary(region="eu-north-1", allowed_countries=["SE", "NO"])["boundary"]["boundary"]
    assert nordic.countries == frozenset({"SE", "NO"})
    assert not nordic.contains("eu-central-1")


def test_contains_handles_gcs_locations() -> None:
    boundary = _boundary(cloud=Cloud.GCP, region="europe-west3", project="acme-obs-eu")["boundary"]["boundary"]
    assert boundary.contains("EU") and boundary.contains("EUR4")
    assert not boundary.contains("US")
    assert boundary.contains(["europe-west1", "europe-west4"])
    assert not boundary.contains(["europe-west1", "us-east1"])


def test_every_resource_of_every_stack_uses_a_boundary_provider(fleet: dict[str, engine.PreviewResult]) -> None:
    for name, result in fleet.items():
        by_urn = {r["urn"]: r for r in result.resources}
        for record in result.resources:
            if record["type"].startswith(BUILTIN_TYPES):
                continue
            if not record["custom"]:
                continue
            provider_urn = record.get("provider", "").rsplit("::", 1)[0]
            assert provider_urn in by_urn, f"{name}: {record['urn']} has no explicit provider"
            provider = by_urn[provider_urn]
            assert by_urn[provider["parent"]]["type"] == "obsfleet:index:ResidencyBoundary", record["urn"]
            tagged = CLOUD_TAGGED.get(provider["type"])
            if tagged:
                tags = _object(provider["inputs"][tagged])
                tags = tags.get("tags", tags)
                assert tags["data-residency"] == result.config.settings.regime.value
                assert tags["obsfleet-stack"] == name
