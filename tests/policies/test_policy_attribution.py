"""policies/_attribution.py: where a resource keeps data, and which boundary applies to it."""

from __future__ import annotations

import json
from typing import Any, Optional

import pytest

from policies.obsfleet_residency._attribution import (
    Boundary,
    Conflict,
    Located,
    NoBoundary,
    Subject,
    Unlocated,
    place,
    stack_boundary,
)
from policies.obsfleet_residency._regions import Regime
from review.analyzer import UNKNOWN
from tests.policies.builders import (
    BUCKET,
    GCS_BUCKET,
    aws_provider,
    default_aws_provider,
    gcp_provider,
    resource,
    resource_args,
    stack,
    stack_resources,
)


def subject(entry: dict, *others: dict) -> Subject:
    """The subject a resource policy sees (inputs, provider inputs)."""
    return Subject(resource_args(entry, [entry, *others]))


def where(entry: dict, *others: dict) -> Any:
    placement = place(subject(entry, *others))
    return placement.location.name if isinstance(placement, Located) else placement


@pytest.mark.parametrize(
    "inputs, provider, expected",
    [
        ({}, aws_provider(region="eu-central-1"), "eu-central-1"),
        ({"region": "eu-west-1"}, aws_provider(region="eu-central-1"), "eu-west-1"),  # own region wins
        ({"region": ""}, aws_provider(region="eu-north-1"), "eu-north-1"),  # empty: unset
        ({}, default_aws_provider("us-west-2"), "us-west-2"),  # engine default provider, from aws:region
    ],
)
def test_aws_region_is_its_own_else_its_providers(inputs: dict, provider: dict, expected: str) -> None:
    assert where(resource(BUCKET, "b", inputs, provider=provider), provider) == expected


@pytest.mark.parametrize(
    "inputs, expected",
    [
        ({"location": "EUR4"}, "EUR4"),  # predefined dual-region, uppercase as GCS reports it
        ({"location": "us"}, "US"),  # multi-region
        ({"location": "asia-southeast1-b"}, "asia-southeast1"),  # a zone: its region
        ({"region": "asia-east1"}, "asia-east1"),
        ({"zone": "asia-northeast1-a"}, "asia-northeast1"),
        ({"location": "ASIA", "customPlacementConfig": {"dataLocations": ["ASIA-EAST1", "asia-southeast1"]}},
         "asia-east1+asia-southeast1"),
        ({}, "asia-southeast1"),  # the provider's region
    ],
)
def test_gcp_location_then_region_then_zone_then_provider(inputs: dict, expected: str) -> None:
    provider = gcp_provider(region="asia-southeast1")
    assert where(resource(GCS_BUCKET, "b", inputs, provider=provider), provider) == expected


def test_unknown_region_cannot_be_verified() -> None:
    provider = aws_provider()
    placement = where(resource(BUCKET, "b", {"region": UNKNOWN}, provider=provider), provider)
    assert isinstance(placement, Unlocated) and not placement.certain and "not known yet" in placement.reason


def test_secret_region_cannot_be_verified() -> None:
    provider = aws_provider(region=None)
    provider["inputs"]["region"] = "[secret]"
    placement = where(resource(BUCKET, "b", {}, provider=provider), provider)
    assert isinstance(placement, Unlocated) and not placement.certain


def test_no_region_anywhere_cannot_be_verified() -> None:
    provider = aws_provider(region=None)
    placement = where(resource(BUCKET, "b", {}, provider=provider), provider)
    assert isinstance(placement, Unlocated) and not placement.certain and "boundary-aws" in placement.reason


@pytest.mark.parametrize("region", ["mars-north-1", 42, {"not": "a region"}, ["eu-west-1"]])
def test_a_name_outside_the_catalog_fails_closed(region: object) -> None:
    provider = aws_provider()
    placement = where(resource(BUCKET, "b", {"region": region}, provider=provider), provider)
    assert isinstance(placement, Unlocated) and placement.certain


def _with(provider: dict, key: str, value: Any) -> dict:
    provider["inputs"][key] = value
    return provider


@pytest.mark.parametrize(("provider", "entry", "expected"), [
    (_with(aws_provider(), "endpoints", json.dumps([{"kms": "https://kms.us-east-1.amazonaws.com"}])), "key", "us-east-1"),
    (_with(aws_provider(), "endpoints", [{"kms": "https://kms.us-east-1.amazonaws.com"}]), "key", "us-east-1"),
    (_with(aws_provider(), "endpoints", json.dumps([{"kms": "https://kms.amazonaws.com"}])), "key", "eu-central-1"),
    (_with(aws_provider(), "endpoints", json.dumps([{"s3": "https://s3.us-east-1.amazonaws.com"}])), "key", "eu-central-1"),
    (_with(gcp_provider(), "storageCustomEndpoint", "https://storage.us-east1.rep.googleapis.com/storage/v1/"), "bucket",
     "us-east1"),
    (_with(gcp_provider(), "storageCustomEndpoint", "https://storage.googleapis.com/storage/v1/"), "bucket", "asia-southeast1"),
])
def test_a_custom_endpoint_for_the_resources_service_places_it(provider: dict, entry: str, expected: str) -> None:
    """The endpoint's region wins; a global endpoint or another service's says nothing."""
    made = resource("aws:kms/key:Key", "k", {}, provider=provider) if entry == "key" else \
        resource(GCS_BUCKET, "b", {"location": "asia-southeast1"}, provider=provider)
    assert where(made, provider) == expected


@pytest.mark.parametrize(("endpoint", "certain"), [("http://localhost:4566", True), ("https://minio.example.net", True),
                                                   (UNKNOWN, False)])
def test_an_endpoint_outside_the_cloud_cannot_be_placed(endpoint: Any, certain: bool) -> None:
    provider = _with(aws_provider(), "endpoints", [{"s3": endpoint}])
    placement = where(resource(BUCKET, "b", {}, provider=provider), provider)
    assert isinstance(placement, Unlocated) and placement.certain is certain


def test_resources_of_other_packages_and_providers_have_no_region() -> None:
    assert place(subject(resource("kubernetes:core/v1:Secret", "s", {}))) is None
    provider = aws_provider()
    assert place(subject(provider)) is None


def test_another_clouds_provider_is_not_this_resources_provider() -> None:
    k8s = resource("pulumi:providers:kubernetes", "k8s", {"region": "eu-central-1"})
    placement = where(resource(BUCKET, "b", {}, provider=k8s), k8s)
    assert isinstance(placement, Unlocated) and "no provider" in placement.reason


# --- boundary ------------------------------------------------------------------------------------


def bounds(entry: dict, config: Optional[dict] = None, *others: dict) -> Any:
    """The boundary of a stack of `entry` and `others` (its providers)."""
    return stack_boundary(config or {}, stack_resources([stack(), *others, entry]))


def test_policy_config_regime_wins_over_tags() -> None:
    provider = aws_provider(regime="ccpa")
    found = bounds(resource(BUCKET, "b", provider=provider), {"regime": "gdpr"}, provider)
    assert isinstance(found, Boundary) and found.regime is Regime.GDPR and "GB" not in found.countries


def test_provider_default_tags_give_the_regime() -> None:
    provider = aws_provider(regime="pdpa")
    found = bounds(resource(BUCKET, "b", provider=provider), None, provider)
    assert isinstance(found, Boundary) and found.regime is Regime.PDPA and "boundary-aws" in found.source


def test_provider_tag_wins_over_the_resources_own() -> None:
    provider = aws_provider(regime="gdpr")
    entry = resource(BUCKET, "b", {"tags": {"data-residency": "ccpa"}}, provider=provider)
    assert bounds(entry, None, provider).regime is Regime.GDPR


def test_a_resource_cannot_declare_its_own_regime() -> None:
    aws = aws_provider(regime=None)
    assert isinstance(bounds(resource(BUCKET, "b", {"tags": {"data-residency": "ccpa"}}, provider=aws), None, aws), NoBoundary)
    gcp = gcp_provider(regime=None)
    entry = resource(GCS_BUCKET, "g", {"labels": {"data-residency": "pdpa"}}, provider=gcp)
    assert isinstance(bounds(entry, None, gcp), NoBoundary)


def test_gcp_default_labels_give_the_regime() -> None:
    provider = gcp_provider(regime="pdpa")
    assert bounds(resource(GCS_BUCKET, "g", provider=provider), None, provider).regime is Regime.PDPA


def test_allowed_countries_replace_and_adequacy_extends() -> None:
    provider = aws_provider(regime="gdpr")
    entry = resource(BUCKET, "b", provider=provider)
    assert bounds(entry, {"allowedCountries": ["DE", "AT"]}, provider).countries == {"DE", "AT"}
    assert "GB" in bounds(entry, {"allowAdequacy": True}, provider).countries


@pytest.mark.parametrize(
    "provider_regime, config, reason",
    [
        (None, {}, "no `regime`"),
        ("hipaa", {}, "unknown regime 'hipaa'"),
        ("ccpa", {"allowAdequacy": True}, "adequacy applies to gdpr only"),
        ("gdpr", {"allowedCountries": ["UK"]}, "ISO writes GB"),
        ("gdpr", {"allowedCountries": "DE"}, "not a list"),
    ],
)
def test_no_boundary_says_why(provider_regime: Optional[str], config: dict, reason: str) -> None:
    provider = aws_provider(regime=provider_regime)
    found = bounds(resource(BUCKET, "b", provider=provider), config, provider)
    assert isinstance(found, NoBoundary) and reason in found.reason


def test_unknown_tag_is_no_boundary() -> None:
    provider = aws_provider(regime=None)
    provider["inputs"]["defaultTags"] = UNKNOWN
    found = bounds(resource(BUCKET, "b", provider=provider), None, provider)
    assert isinstance(found, NoBoundary) and "could not tell its regime" in found.reason


def regime(config: dict, resources: list) -> Any:
    found = stack_boundary(config, resources)
    return found.regime if isinstance(found, Boundary) else found


def test_stack_regime_from_config_else_the_one_regime_the_stack_declares() -> None:
    gdpr, ccpa = aws_provider("eu", regime="gdpr"), aws_provider("us", regime="ccpa")
    one = [gdpr, resource(BUCKET, "a", provider=gdpr), resource(BUCKET, "b", provider=gdpr)]
    assert regime({}, stack_resources(one)) is Regime.GDPR
    assert regime({"regime": "ccpa"}, stack_resources(one)) is Regime.CCPA
    mixed = one + [ccpa, resource(BUCKET, "c", provider=ccpa)]
    found = regime({}, stack_resources(mixed))
    assert isinstance(found, Conflict) and "provider 'us' default tags says 'ccpa'" in found.describe()
    assert isinstance(regime({}, []), NoBoundary)


def test_the_boundary_component_declares_regime_and_countries() -> None:
    component = {"urn": "urn:pulumi:hub::obsfleet::obsfleet:index:ResidencyBoundary::boundary", "custom": False,
                 "type": "obsfleet:index:ResidencyBoundary", "outputs": {"regime": "gdpr", "countries": ["DE", "GB"]}}
    found = stack_boundary({}, stack_resources([stack(), component]))
    assert isinstance(found, Boundary) and found.regime is Regime.GDPR and found.countries == {"DE", "GB"}
    assert "ResidencyBoundary 'boundary'" in found.source


def test_an_unused_provider_or_the_stack_output_declares_the_regime() -> None:
    """An edge on EKS has only Kubernetes resources: its boundary's AWS provider and its outputs tell."""
    edge = [stack(), resource("kubernetes:apps/v1:Deployment", "agent")]
    assert isinstance(regime({}, stack_resources(edge)), NoBoundary)
    assert regime({}, stack_resources(edge + [gcp_provider(regime="pdpa")])) is Regime.PDPA
    edge[0]["outputs"] = {"regime": "ccpa", "cluster": "edge-us-west"}
    assert regime({}, stack_resources(edge)) is Regime.CCPA


def test_tags_are_read_from_json_or_objects() -> None:
    provider = aws_provider(regime=None)
    provider["inputs"]["defaultTags"] = {"tags": {"data-residency": "gdpr"}}  # as an object, not JSON
    assert bounds(resource(BUCKET, "b", provider=provider), None, provider).regime is Regime.GDPR
    provider["inputs"]["defaultTags"] = json.dumps({"tags": {}})
    assert isinstance(bounds(resource(BUCKET, "b", provider=provider), None, provider), NoBoundary)


def test_resources_sent_without_properties_read_as_empty() -> None:
    """A failed program's Stack, or a resource whose whole state is unknown, arrives with no properties."""
    provider = aws_provider()
    resources = stack_resources([stack(), provider, resource(BUCKET, "a", provider=provider)])
    for entry in resources:
        entry.props = None
        if entry.provider is not None:
            entry.provider.props = None
    assert isinstance(regime({}, resources), NoBoundary)
    assert Subject(resources[2]).get("region") is None
