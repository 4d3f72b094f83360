"""The region catalog: complete against its pinned sources, and each regime judges as documented."""

from __future__ import annotations

import json
from pathlib import Path

import botocore
import pytest

from components.regions import (
    ADEQUACY_COUNTRIES,
    CCPA_COUNTRIES,
    GDPR_COUNTRIES,
    ISO_COUNTRIES,
    PDPA_COUNTRIES,
    Cloud,
    LocationKind,
    Regime,
    UnknownLocation,
    UnknownRegime,
    catalog_rows,
    inside,
    locate,
    locate_placement,
    locate_zone,
    locations,
    regime_countries,
    regimes_of,
    regions,
)

DATA = Path(__file__).parent / "data"
# Debian package iso-codes: the ISO 3166 Maintenance Agency's list, maintained independently.
ISO_CODES_JSON = Path("/usr/share/iso-codes/json/iso_3166-1.json")


def botocore_regions() -> dict[str, str]:
    """region -> description for the partitions the catalog covers, from botocore's own data."""
    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    return {
        name: region["description"]
        for partition in endpoints["partitions"]
        if partition["partition"] in ("aws", "aws-us-gov")
        for name, region in partition["regions"].items()
    }


# --- completeness against pinned sources ---------------------------------------------------


def test_botocore_is_the_pinned_version() -> None:
    # The catalog was built from this release; a bump must come with a catalog review.
    assert botocore.__version__ == "1.44.5"


def test_aws_regions_are_exactly_botocores_aws_and_govcloud_partitions() -> None:
    catalog = {loc.name: loc.description for loc in regions(Cloud.AWS)}
    assert catalog == botocore_regions()


def test_gcp_regions_are_exactly_the_pinned_source() -> None:
    pinned = json.loads((DATA / "gcp_regions.json").read_text(encoding="utf-8"))
    catalog = {loc.name: loc.description for loc in regions(Cloud.GCP)}
    assert catalog == pinned


@pytest.mark.parametrize(
    ("cloud", "name", "country"),
    [
        ("aws", "ap-east-1", "HK"),
        ("aws", "ap-east-2", "TW"),
        ("aws", "ap-southeast-5", "MY"),
        ("aws", "ap-southeast-6", "NZ"),
        ("aws", "ap-southeast-7", "TH"),
        ("aws", "mx-central-1", "MX"),
        ("aws", "il-central-1", "IL"),
        ("aws", "me-central-1", "AE"),
        ("aws", "me-south-1", "BH"),
        ("aws", "ca-west-1", "CA"),
        ("aws", "eu-south-2", "ES"),
        ("aws", "eu-central-2", "CH"),
        ("aws", "eu-west-1", "IE"),
        ("aws", "eu-west-2", "GB"),
        ("aws", "us-gov-west-1", "US"),
        ("gcp", "asia-east1", "TW"),
        ("gcp", "asia-southeast3", "TH"),
        ("gcp", "europe-north2", "SE"),
        ("gcp", "europe-west2", "GB"),
        ("gcp", "europe-west6", "CH"),
        ("gcp", "europe-west10", "DE"),
        ("gcp", "me-central1", "QA"),
        ("gcp", "me-central2", "SA"),
        ("gcp", "me-west1", "IL"),
        ("gcp", "northamerica-south1", "MX"),
    ],
)
def test_region_country(cloud: str, name: str, country: str) -> None:
    assert locate(cloud, name).country == country


def test_every_region_has_one_iso_country() -> None:
    for loc in regions():
        assert loc.kind is LocationKind.REGION
        assert len(loc.countries) == 1 and loc.country in ISO_COUNTRIES, loc


@pytest.mark.skipif(not ISO_CODES_JSON.exists(), reason="Debian package iso-codes not installed")
def test_iso_country_list_matches_iso_codes() -> None:
    entries = json.loads(ISO_CODES_JSON.read_text())["3166-1"]
    assert ISO_COUNTRIES == {entry["alpha_2"] for entry in entries}


def test_regions_sorted_and_locations_add_gcs_dual_and_multi_regions() -> None:
    listed = regions()
    assert listed == sorted(listed, key=lambda loc: (loc.cloud.value, loc.name))
    extra = {loc.name: loc.kind for loc in locations() if loc not in listed}
    assert extra == {
        "ASIA1": LocationKind.DUAL_REGION,
        "EUR4": LocationKind.DUAL_REGION,
        "EUR5": LocationKind.DUAL_REGION,
        "EUR7": LocationKind.DUAL_REGION,
        "EUR8": LocationKind.DUAL_REGION,
        "NAM4": LocationKind.DUAL_REGION,
        "EU": LocationKind.MULTI_REGION,
        "US": LocationKind.MULTI_REGION,
        "ASIA": LocationKind.MULTI_REGION,
    }
    assert all(loc.cloud is Cloud.AWS for loc in locations("aws"))


def test_dual_region_countries_are_its_member_regions() -> None:
    eur8 = locate("gcp", "EUR8")
    assert eur8.members == ("europe-west3", "europe-west6")
    assert eur8.countries == {"DE", "CH"}
    assert eur8.country is None


# --- regimes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloud", "name", "regime", "expected"),
    [
        ("aws", "eu-central-1", "gdpr", True),
        ("aws", "eu-west-1", "gdpr", True),
        ("aws", "eu-north-1", "gdpr", True),
        ("gcp", "europe-west3", "gdpr", True),
        ("aws", "eu-west-2", "gdpr", False),  # London
        ("aws", "eu-central-2", "gdpr", False),  # Zurich
        ("gcp", "europe-west2", "gdpr", False),
        ("gcp", "europe-west6", "gdpr", False),
        ("aws", "us-east-1", "gdpr", False),
        ("aws", "ap-southeast-1", "pdpa", True),
        ("gcp", "asia-southeast1", "pdpa", True),
        ("aws", "ap-southeast-5", "pdpa", True),
        ("aws", "ap-south-1", "pdpa", True),
        ("aws", "ap-southeast-2", "pdpa", False),  # Sydney
        ("gcp", "australia-southeast1", "pdpa", False),
        ("aws", "ap-southeast-6", "pdpa", False),  # New Zealand
        ("aws", "me-central-1", "pdpa", False),  # UAE: Western Asia
        ("aws", "us-east-1", "ccpa", True),
        ("aws", "us-gov-west-1", "ccpa", True),
        ("gcp", "us-central1", "ccpa", True),
        ("aws", "ca-central-1", "ccpa", False),
        ("aws", "mx-central-1", "ccpa", False),
        ("gcp", "EU", "gdpr", True),
        ("gcp", "eu", "gdpr", True),
        ("gcp", "EUR4", "gdpr", True),
        ("gcp", "US", "gdpr", False),
        ("gcp", "EUR5", "gdpr", False),  # Belgium + London
        ("gcp", "EUR7", "gdpr", False),  # London + Frankfurt
        ("gcp", "EUR8", "gdpr", False),  # Frankfurt + Zurich
        ("gcp", "US", "ccpa", True),
        ("gcp", "NAM4", "ccpa", True),
        ("gcp", "ASIA", "pdpa", True),
        ("gcp", "ASIA1", "pdpa", True),
        ("gcp", "ASIA", "gdpr", False),
    ],
)
def test_regime_default_countries(cloud: str, name: str, regime: str, expected: bool) -> None:
    assert inside(locate(cloud, name), regime_countries(regime)) is expected


@pytest.mark.parametrize(
    ("cloud", "name"),
    [("aws", "eu-west-2"), ("aws", "eu-central-2"), ("gcp", "europe-west2"), ("gcp", "europe-west6"),
     ("gcp", "EUR5"), ("gcp", "EUR7"), ("gcp", "EUR8"), ("aws", "il-central-1"), ("aws", "ca-central-1")],
)
def test_gdpr_adequacy_opt_in_admits_adequate_countries(cloud: str, name: str) -> None:
    assert inside(locate(cloud, name), regime_countries("gdpr", allow_adequacy=True))


def test_adequacy_does_not_admit_the_us() -> None:
    # The EU-US DPF covers certified organisations, not the territory: see ADEQUACY_COUNTRIES.
    assert not inside(locate("aws", "us-east-1"), regime_countries("gdpr", allow_adequacy=True))
    assert "US" not in ADEQUACY_COUNTRIES


def test_adequacy_is_gdpr_only() -> None:
    with pytest.raises(ValueError, match="gdpr only"):
        regime_countries("pdpa", allow_adequacy=True)


def test_regime_sets() -> None:
    assert len(GDPR_COUNTRIES) == 30 and {"IS", "LI", "NO", "DE", "GR"} <= GDPR_COUNTRIES
    assert not {"GB", "CH"} & GDPR_COUNTRIES
    assert CCPA_COUNTRIES == {"US"}
    assert {"SG", "TH", "MY", "ID", "PH", "VN", "JP", "KR", "TW", "HK", "IN"} <= PDPA_COUNTRIES
    assert not {"AU", "NZ", "IL", "AE", "SA", "QA", "BH"} & PDPA_COUNTRIES
    for countries in (GDPR_COUNTRIES, PDPA_COUNTRIES, ADEQUACY_COUNTRIES):
        assert countries <= ISO_COUNTRIES


def test_allowed_countries_replace_the_default() -> None:
    only_germany = regime_countries("gdpr", allowed_countries=["DE"])
    assert only_germany == {"DE"}
    assert inside(locate("aws", "eu-central-1"), only_germany)
    assert not inside(locate("aws", "eu-west-1"), only_germany)
    assert not inside(locate("gcp", "EU"), only_germany)
    # Replacing can widen too, on purpose: a stack that accepts the UK says so.
    assert inside(locate("aws", "eu-west-2"), regime_countries("gdpr", allowed_countries=["DE", "GB"]))
    # Adequacy adds to the replacement, not to the default.
    assert regime_countries("gdpr", ["DE"], allow_adequacy=True) == {"DE"} | ADEQUACY_COUNTRIES


@pytest.mark.parametrize("bad", ["de", "UK", "XX", "DEU", "", 49])
def test_bad_country_code_is_named(bad: object) -> None:
    with pytest.raises(ValueError, match=repr(bad)):
        regime_countries("gdpr", allowed_countries=["DE", bad])  # type: ignore[list-item]


def test_uk_hint_points_to_gb() -> None:
    with pytest.raises(ValueError, match="ISO writes GB"):
        regime_countries("gdpr", allowed_countries=["UK"])


@pytest.mark.parametrize("bad", ["DE", []])
def test_allowed_countries_must_be_a_non_empty_list(bad: object) -> None:
    with pytest.raises(ValueError, match="allowed_countries"):
        regime_countries("gdpr", allowed_countries=bad)  # type: ignore[arg-type]


def test_unknown_regime() -> None:
    with pytest.raises(UnknownRegime, match=r"unknown regime 'hipaa' \(allowed: ccpa, gdpr, pdpa\)"):
        regime_countries("hipaa")


def test_regimes_of() -> None:
    assert regimes_of(locate("aws", "eu-central-1")) == [Regime.GDPR]
    assert regimes_of(locate("gcp", "NAM4")) == [Regime.CCPA]
    assert regimes_of(locate("aws", "ap-southeast-2")) == []
    assert regimes_of(locate("gcp", "EUR8")) == []


# --- Cloud Storage custom dual-regions -----------------------------------------------------


def test_custom_placement_is_the_union_of_its_regions() -> None:
    placement = locate_placement("gcp", ["europe-west1", "europe-west4"])
    assert placement.kind is LocationKind.DUAL_REGION
    assert placement.countries == {"BE", "NL"}
    assert inside(placement, regime_countries("gdpr"))
    assert not inside(locate_placement("gcp", ["europe-west1", "us-east1"]), regime_countries("gdpr"))
    # Cloud Storage reports dataLocations uppercase.
    assert locate_placement("gcp", ["EUROPE-WEST1", "EUROPE-WEST2"]).countries == {"BE", "GB"}


@pytest.mark.parametrize(
    ("cloud", "members", "named"),
    [
        ("gcp", ["europe-west1", "europe-west99"], "europe-west99"),
        ("gcp", ["europe-west1", "EU"], "EU"),
        ("gcp", [], "[]"),
        ("aws", ["eu-west-1", "eu-central-1"], "eu-west-1"),
    ],
)
def test_bad_custom_placement(cloud: str, members: list[str], named: str) -> None:
    with pytest.raises(UnknownLocation, match=named.replace("[", r"\[").replace("]", r"\]")):
        locate_placement(cloud, members)


# --- unknown locations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloud", "name"),
    [("aws", "eu-central-9"), ("aws", ""), ("aws", "EU-CENTRAL-1"), ("aws", "europe-west3"),
     ("gcp", "eu-central-1"), ("gcp", ""), ("gcp", "global"), ("gcp", "EUR3")],
)
def test_unknown_location_is_an_error_naming_it(cloud: str, name: str) -> None:
    with pytest.raises(UnknownLocation) as raised:
        locate(cloud, name)
    message = str(raised.value)
    assert repr(name) in message and f"--cloud {cloud}" in message


def test_unknown_region_message() -> None:
    with pytest.raises(UnknownLocation) as raised:
        locate("aws", "eu-central-9")
    assert str(raised.value) == (
        "unknown aws region 'eu-central-9' (list them with: python -m review regions --cloud aws)"
    )


def test_gcp_names_are_case_insensitive() -> None:
    assert locate("gcp", "EUROPE-WEST3") == locate("gcp", "europe-west3")
    assert locate("gcp", "eur4").name == "EUR4"


def test_unknown_cloud() -> None:
    with pytest.raises(ValueError, match=r"unknown cloud 'azure' \(allowed: aws, gcp\)"):
        locate("azure", "westeurope")


@pytest.mark.parametrize(
    ("cloud", "zone", "region"),
    [("aws", "eu-central-1a", "eu-central-1"), ("gcp", "europe-west1-b", "europe-west1"),
     ("gcp", "EUROPE-WEST1-B", "europe-west1")],
)
def test_zone_resolves_to_its_region(cloud: str, zone: str, region: str) -> None:
    assert locate_zone(cloud, zone) == locate(cloud, region)


@pytest.mark.parametrize(
    ("cloud", "zone"),
    [("aws", "eu-central-1"), ("aws", "us-east-1-lim-1a"), ("aws", "eu-central-9a"), ("gcp", "europe-west1")],
)
def test_bad_zone(cloud: str, zone: str) -> None:
    with pytest.raises(UnknownLocation, match=repr(zone)):
        locate_zone(cloud, zone)


# --- CLI rows ------------------------------------------------------------------------------


def test_catalog_rows() -> None:
    rows = {row["region"]: row for row in catalog_rows(cloud="gcp")}
    assert rows["europe-west3"] == {"cloud": "gcp", "region": "europe-west3", "country": "DE", "regimes": ["gdpr"]}
    assert rows["EUR4"] == {
        "cloud": "gcp", "region": "EUR4", "country": None, "regimes": ["gdpr"],
        "kind": "dual-region", "countries": ["FI", "NL"],
    }
    gdpr = {row["region"] for row in catalog_rows(regime="gdpr")}
    assert {"eu-central-1", "europe-west3", "EU", "EUR4"} <= gdpr
    assert not {"eu-west-2", "eu-central-2", "US", "EUR5"} & gdpr
