"""The ONE region catalog: cloud region/location -> countries, regime -> allowed countries.

Used by the program (settings, ResidencyBoundary) and by the policy pack, so both judge alike.
Pure data and functions: no cloud SDK, no botocore, no I/O at import time.

Sources (each table below repeats its own):
- AWS: botocore 1.44.5 `botocore/data/endpoints.json`, partitions `aws` and `aws-us-gov`.
  Left out on purpose: `aws-cn` (China, separate accounts and legal entity), `aws-iso*`
  (classified US-government partitions, not publicly available) and `aws-eusc` (AWS European
  Sovereign Cloud, a separate partition with separate accounts; add it here if a stack needs it).
- GCP regions: GoogleCloudPlatform/gcping `tools/terraform/regions.json`, commit
  03256886b82f127dd8859069a65d1d850d7d7c79 (copied to tests/components/data/gcp_regions.json on
  2026-11-26), cross-checked against Google's per-product location pages (e.g. BigQuery, Batch).
- Cloud Storage dual- and multi-regions: cloud.google.com/storage/docs/locations
  ("Predefined dual-regions" table; "Multi-regions"), as quoted on 2026-04-12.
- Countries are ISO 3166-1 alpha-2 (GB for the UK, GR for Greece).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Sequence


class Cloud(str, Enum):
    AWS = "aws"
    GCP = "gcp"


class Regime(str, Enum):
    GDPR = "gdpr"
    CCPA = "ccpa"
    PDPA = "pdpa"


class LocationKind(str, Enum):
    REGION = "region"
    DUAL_REGION = "dual-region"
    MULTI_REGION = "multi-region"


@dataclass(frozen=True)
class Location:
    """Where a cloud keeps data: one region, or a Cloud Storage dual-/multi-region."""

    cloud: Cloud
    name: str  # canonical spelling: AWS/GCP regions lowercase, GCS dual/multi uppercase ("EUR4")
    kind: LocationKind
    countries: frozenset[str]  # every country the data may sit in
    description: str  # e.g. "Europe (Frankfurt)"
    members: tuple[str, ...] = ()  # dual-regions: their two regions; empty otherwise

    @property
    def country(self) -> str | None:
        """The single country of a region; None for dual/multi-regions (see `countries`)."""
        if self.kind is not LocationKind.REGION:
            return None
        (only,) = self.countries
        return only


class UnknownLocation(ValueError):
    """A region/location name the catalog does not know: never silently allowed."""

    def __init__(self, cloud: Cloud, name: object, reason: str | None = None) -> None:
        self.cloud = cloud
        self.name = name
        what = "region" if cloud is Cloud.AWS else "location"
        detail = f": {reason}" if reason else ""
        super().__init__(
            f"unknown {cloud.value} {what} {name!r}{detail} "
            f"(list them with: python -m review regions --cloud {cloud.value})"
        )


class UnknownRegime(ValueError):
    """A regime name that is not one of `Regime`."""


# --- countries -----------------------------------------------------------------------------

# ISO 3166-1 alpha-2, all 249 officially assigned codes (ISO 3166 Maintenance Agency; the same
# set as Debian iso-codes 4.15.0 /usr/share/iso-codes/json/iso_3166-1.json, checked in tests).
ISO_COUNTRIES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
    """.split()
)

# Codes people write that ISO 3166-1 spells differently (EU institutions use EL and UK).
_ISO_SPELLING = {"UK": "GB", "EL": "GR"}

# The 27 EU member states (europa.eu, "EU countries", since the UK left on 2020-01-31).
EU_MEMBER_STATES: frozenset[str] = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)

# gdpr: the GDPR applies in the EEA: the EU-27 plus Iceland, Liechtenstein and Norway
# (EEA Joint Committee Decision No 154/2018 incorporated Regulation (EU) 2016/679 into the EEA
# Agreement). The UK (UK GDPR) and Switzerland (revFADP) have their own laws: reachable only
# through `allow_adequacy`.
GDPR_COUNTRIES: frozenset[str] = EU_MEMBER_STATES | {"IS", "LI", "NO"}

# ccpa: the CCPA (Cal. Civ. Code §1798.100 et seq.) is a California law; docs/design.md draws the
# boundary at the United States.
CCPA_COUNTRIES: frozenset[str] = frozenset({"US"})

# pdpa: "Asia" as the UN M49 geoscheme (unstats.un.org/unsd/methodology/m49) draws it, less its
# Western Asia sub-region: Eastern (030), South-eastern (035), Southern (034) and Central (143)
# Asia. Western Asia (IL, AE, SA, QA, BH, TR, ...) is left out: the clouds group it as "Middle
# East", apart from Asia Pacific, and it has its own data laws (Israel PPL, UAE and Saudi PDPL).
# Australia and New Zealand are Oceania. TW is listed by ISO though M49 files it under China.
PDPA_COUNTRIES: frozenset[str] = frozenset(
    "CN HK JP KP KR MN MO TW"  # Eastern Asia
    " BN ID KH LA MM MY PH SG TH TL VN"  # South-eastern Asia
    " AF BD BT IN IR LK MV NP PK"  # Southern Asia
    " KG KZ TJ TM UZ".split()  # Central Asia
)

# EU Commission adequacy decisions under GDPR Art. 45 (commission.europa.eu, "Adequacy
# decisions"): Andorra, Argentina, Canada (commercial organisations under PIPEDA), Faroe Islands,
# Guernsey, Israel, Isle of Man, Japan, Jersey, New Zealand, Republic of Korea, Switzerland,
# United Kingdom, Uruguay. Deliberately NOT the United States: its decision (EU-US Data Privacy
# Framework, 2023-07-10) covers only organisations self-certified under the DPF, a property of
# the recipient, not of the territory this catalog judges; a stack relying on the DPF replaces
# `allowed_countries` to say so. Brazil's decision was still a draft when this list was made.
ADEQUACY_COUNTRIES: frozenset[str] = frozenset(
    "AD AR CA FO GG IL IM JP JE NZ KR CH GB UY".split()
)

_REGIME_COUNTRIES: dict[Regime, frozenset[str]] = {
    Regime.GDPR: GDPR_COUNTRIES,
    Regime.CCPA: CCPA_COUNTRIES,
    Regime.PDPA: PDPA_COUNTRIES,
}

# --- AWS -----------------------------------------------------------------------------------

# botocore 1.44.5 endpoints.json, partitions "aws" and "aws-us-gov": region -> (country,
# description). Descriptions are botocore's verbatim; countries read from each description.
_AWS_REGIONS: dict[str, tuple[str, str]] = {
    "af-south-1": ("ZA", "Africa (Cape Town)"),
    "ap-east-1": ("HK", "Asia Pacific (Hong Kong)"),
    "ap-east-2": ("TW", "Asia Pacific (Taipei)"),
    "ap-northeast-1": ("JP", "Asia Pacific (Tokyo)"),
    "ap-northeast-2": ("KR", "Asia Pacific (Seoul)"),
    "ap-northeast-3": ("JP", "Asia Pacific (Osaka)"),
    "ap-south-1": ("IN", "Asia Pacific (Mumbai)"),
    "ap-south-2": ("IN", "Asia Pacific (Hyderabad)"),
    "ap-southeast-1": ("SG", "Asia Pacific (Singapore)"),
    "ap-southeast-2": ("AU", "Asia Pacific (Sydney)"),
    "ap-southeast-3": ("ID", "Asia Pacific (Jakarta)"),
    "ap-southeast-4": ("AU", "Asia Pacific (Melbourne)"),
    "ap-southeast-5": ("MY", "Asia Pacific (Malaysia)"),
    "ap-southeast-6": ("NZ", "Asia Pacific (New Zealand)"),
    "ap-southeast-7": ("TH", "Asia Pacific (Thailand)"),
    "ca-central-1": ("CA", "Canada (Central)"),
    "ca-west-1": ("CA", "Canada West (Calgary)"),
    "eu-central-1": ("DE", "Europe (Frankfurt)"),
    "eu-central-2": ("CH", "Europe (Zurich)"),
    "eu-north-1": ("SE", "Europe (Stockholm)"),
    "eu-south-1": ("IT", "Europe (Milan)"),
    "eu-south-2": ("ES", "Europe (Spain)"),
    "eu-west-1": ("IE", "Europe (Ireland)"),
    "eu-west-2": ("GB", "Europe (London)"),
    "eu-west-3": ("FR", "Europe (Paris)"),
    "il-central-1": ("IL", "Israel (Tel Aviv)"),
    "me-central-1": ("AE", "Middle East (UAE)"),
    "me-south-1": ("BH", "Middle East (Bahrain)"),
    "mx-central-1": ("MX", "Mexico (Central)"),
    "sa-east-1": ("BR", "South America (Sao Paulo)"),
    "us-east-1": ("US", "US East (N. Virginia)"),
    "us-east-2": ("US", "US East (Ohio)"),
    "us-west-1": ("US", "US West (N. California)"),
    "us-west-2": ("US", "US West (Oregon)"),
    # aws-us-gov partition
    "us-gov-east-1": ("US", "AWS GovCloud (US-East)"),
    "us-gov-west-1": ("US", "AWS GovCloud (US-West)"),
}

# --- GCP -----------------------------------------------------------------------------------

# GoogleCloudPlatform/gcping tools/terraform/regions.json @ 03256886b82f127dd8859069a65d1d850d7d7c79
# (the regions Google deploys its latency probe to): region -> (country, description). The
# description is gcping's; the country is the region's city as Google's location pages give it.
_GCP_REGIONS: dict[str, tuple[str, str]] = {
    "africa-south1": ("ZA", "Johannesburg"),
    "asia-east1": ("TW", "Taiwan"),
    "asia-east2": ("HK", "Hong Kong"),
    "asia-northeast1": ("JP", "Tokyo"),
    "asia-northeast2": ("JP", "Osaka"),
    "asia-northeast3": ("KR", "Seoul"),
    "asia-south1": ("IN", "Mumbai"),
    "asia-south2": ("IN", "Delhi"),
    "asia-southeast1": ("SG", "Singapore"),
    "asia-southeast2": ("ID", "Jakarta"),
    "asia-southeast3": ("TH", "Bangkok"),
    "australia-southeast1": ("AU", "Sydney"),
    "australia-southeast2": ("AU", "Melbourne"),
    "europe-central2": ("PL", "Warsaw"),
    "europe-north1": ("FI", "Finland"),
    "europe-north2": ("SE", "Stockholm"),
    "europe-southwest1": ("ES", "Madrid"),
    "europe-west1": ("BE", "Belgium"),
    "europe-west2": ("GB", "London"),
    "europe-west3": ("DE", "Frankfurt"),
    "europe-west4": ("NL", "Netherlands"),
    "europe-west6": ("CH", "Zurich"),
    "europe-west8": ("IT", "Milan"),
    "europe-west9": ("FR", "Paris"),
    "europe-west10": ("DE", "Berlin"),
    "europe-west12": ("IT", "Turin"),
    "me-central1": ("QA", "Doha"),
    "me-central2": ("SA", "Dammam"),
    "me-west1": ("IL", "Tel Aviv"),
    "northamerica-northeast1": ("CA", "Montréal"),
    "northamerica-northeast2": ("CA", "Toronto"),
    "northamerica-south1": ("MX", "México"),
    "southamerica-east1": ("BR", "São Paulo"),
    "southamerica-west1": ("CL", "Santiago"),
    "us-central1": ("US", "Iowa"),
    "us-east1": ("US", "South Carolina"),
    "us-east4": ("US", "North Virginia"),
    "us-east5": ("US", "Columbus"),
    "us-south1": ("US", "Dallas"),
    "us-west1": ("US", "Oregon"),
    "us-west2": ("US", "Los Angeles"),
    "us-west3": ("US", "Salt Lake City"),
    "us-west4": ("US", "Las Vegas"),
}

# Cloud Storage predefined dual-regions (storage/docs/locations, "Predefined dual-regions"):
# each stores object data in exactly its two regions.
_GCS_DUAL_REGIONS: dict[str, tuple[str, str]] = {
    "ASIA1": ("asia-northeast1", "asia-northeast2"),
    "EUR4": ("europe-north1", "europe-west4"),
    "EUR5": ("europe-west1", "europe-west2"),
    "EUR7": ("europe-west2", "europe-west3"),
    "EUR8": ("europe-west3", "europe-west6"),
    "NAM4": ("us-central1", "us-east1"),
}

# Cloud Storage multi-regions. Google commits to an area, not to regions:
# - EU: "data centers within member states of the European Union", so any of the EU-27 (Google
#   runs EU data centres with no public region, e.g. Dublin: region countries would undercount);
# - US: data centres in the United States;
# - ASIA: "data centers in Asia", an area Google does not define; we take the countries of its
#   asia-* regions, the narrowest reading that matches where it runs Asian infrastructure.
_GCS_MULTI_REGIONS: dict[str, tuple[frozenset[str], str]] = {
    "EU": (EU_MEMBER_STATES, "European Union"),
    "US": (frozenset({"US"}), "United States"),
    "ASIA": (
        frozenset(country for name, (country, _) in _GCP_REGIONS.items() if name.startswith("asia-")),
        "Asia",
    ),
}


def _build() -> tuple[list[Location], dict[tuple[Cloud, str], Location]]:
    found: list[Location] = []
    for cloud, table in ((Cloud.AWS, _AWS_REGIONS), (Cloud.GCP, _GCP_REGIONS)):
        for name, (country, description) in sorted(table.items()):
            found.append(Location(cloud, name, LocationKind.REGION, frozenset({country}), description))
    for name, members in sorted(_GCS_DUAL_REGIONS.items()):
        found.append(
            Location(
                Cloud.GCP,
                name,
                LocationKind.DUAL_REGION,
                frozenset(_GCP_REGIONS[m][0] for m in members),
                " + ".join(_GCP_REGIONS[m][1] for m in members),
                members,
            )
        )
    for name, (countries, description) in sorted(_GCS_MULTI_REGIONS.items()):
        found.append(Location(Cloud.GCP, name, LocationKind.MULTI_REGION, countries, description))
    # GCS location names are case-insensitive ("eu", "EU", "Eur4"): index GCP by lowercase.
    index = {(loc.cloud, loc.name.lower() if loc.cloud is Cloud.GCP else loc.name): loc for loc in found}
    return found, index


_LOCATIONS, _INDEX = _build()


# --- lookups -------------------------------------------------------------------------------


def _cloud(cloud: Cloud | str) -> Cloud:
    try:
        return Cloud(cloud)
    except ValueError:
        raise ValueError(
            f"unknown cloud {cloud!r} (allowed: {', '.join(c.value for c in Cloud)})"
        ) from None


def _regime(regime: Regime | str) -> Regime:
    try:
        return Regime(regime)
    except ValueError:
        allowed = ", ".join(sorted(r.value for r in Regime))
        raise UnknownRegime(f"unknown regime {regime!r} (allowed: {allowed})") from None


def locate(cloud: Cloud | str, name: str) -> Location:
    """The catalog entry for `name`; UnknownLocation for anything else, the empty string included.

    AWS names are exact (lowercase, as AWS spells them); GCP names are case-insensitive because
    Cloud Storage reports bucket locations uppercase ("EUROPE-WEST1", "EU").
    """
    c = _cloud(cloud)
    if not isinstance(name, str) or not name:
        raise UnknownLocation(c, name)
    found = _INDEX.get((c, name.lower() if c is Cloud.GCP else name))
    if found is None:
        raise UnknownLocation(c, name)
    return found


# An AWS Availability Zone is its region plus one letter ("eu-central-1a"); a GCP zone is its
# region, a dash and one letter ("europe-west1-b"). AWS Local Zones ("us-east-1-lim-1a", in Lima)
# may sit in another country than their parent region, so they stay unknown.
_ZONE = {
    Cloud.AWS: re.compile(r"^(?P<region>.+\d)[a-z]$"),
    Cloud.GCP: re.compile(r"^(?P<region>.+\d)-[a-z]$"),
}


def locate_zone(cloud: Cloud | str, zone: str) -> Location:
    """The region of an availability zone (zonal resources such as a zonal GKE cluster)."""
    c = _cloud(cloud)
    if not isinstance(zone, str):
        raise UnknownLocation(c, zone, "not a zone name")
    match = _ZONE[c].match(zone.lower() if c is Cloud.GCP else zone)
    if match is None:
        raise UnknownLocation(c, zone, "not a zone name")
    found = _INDEX.get((c, match["region"]))
    if found is None:
        raise UnknownLocation(c, zone, f"no region {match['region']!r}")
    return found


def locate_placement(cloud: Cloud | str, regions: Sequence[str]) -> Location:
    """A Cloud Storage configurable dual-region (`customPlacementConfig.dataLocations`).

    Data sits in the member regions only, so the location's countries are their union.
    """
    c = _cloud(cloud)
    if c is not Cloud.GCP:
        raise UnknownLocation(c, list(regions), "custom placement exists only for Cloud Storage")
    if isinstance(regions, str) or not regions:
        raise UnknownLocation(c, regions, "dataLocations must list regions")
    members = [locate(c, r) for r in regions]
    for given, member in zip(regions, members):
        if member.kind is not LocationKind.REGION:
            raise UnknownLocation(c, given, f"dataLocations takes regions, not a {member.kind.value}")
    names = tuple(m.name for m in members)
    return Location(
        Cloud.GCP,
        "+".join(names),
        LocationKind.DUAL_REGION,
        frozenset().union(*(m.countries for m in members)),
        " + ".join(m.description for m in members),
        names,
    )


def regions(cloud: Cloud | str | None = None) -> list[Location]:
    """Single regions, sorted by (cloud, name)."""
    return [loc for loc in locations(cloud) if loc.kind is LocationKind.REGION]


def locations(cloud: Cloud | str | None = None) -> list[Location]:
    """Regions, then Cloud Storage dual-regions, then multi-regions."""
    c = None if cloud is None else _cloud(cloud)
    return [loc for loc in _LOCATIONS if c is None or loc.cloud is c]


# --- regimes -------------------------------------------------------------------------------


def _country_code(code: object) -> str:
    if isinstance(code, str) and code in ISO_COUNTRIES:
        return code
    hint = f"; ISO writes {_ISO_SPELLING[code]}" if isinstance(code, str) and code in _ISO_SPELLING else ""
    raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (uppercase, e.g. 'DE'){hint}")


def regime_countries(
    regime: Regime | str,
    allowed_countries: Iterable[str] | None = None,
    allow_adequacy: bool = False,
) -> frozenset[str]:
    """Countries a regime lets data sit in.

    `allowed_countries` REPLACES the regime's default list (a stack or policy config narrowing
    or widening it on purpose); `allow_adequacy` (gdpr only) adds ADEQUACY_COUNTRIES.
    """
    r = _regime(regime)
    if allow_adequacy and r is not Regime.GDPR:
        raise ValueError(f"allow_adequacy applies to gdpr only, not {r.value}")
    if allowed_countries is None:
        countries = _REGIME_COUNTRIES[r]
    else:
        if isinstance(allowed_countries, str):
            raise ValueError(f"allowed_countries must be a list of country codes, not {allowed_countries!r}")
        countries = frozenset(_country_code(code) for code in allowed_countries)
        if not countries:
            raise ValueError("allowed_countries is empty: no location could ever be inside it")
    return countries | ADEQUACY_COUNTRIES if allow_adequacy else countries


def inside(location: Location, countries: frozenset[str]) -> bool:
    """True when every country the location's data may sit in is one of `countries`."""
    return location.countries <= countries


def regimes_of(location: Location) -> list[Regime]:
    """Regimes (default countries) that hold all of the location's countries, by name."""
    return sorted((r for r, cs in _REGIME_COUNTRIES.items() if inside(location, cs)), key=lambda r: r.value)


def catalog_rows(cloud: Cloud | str | None = None, regime: Regime | str | None = None) -> list[dict]:
    """Rows for `python -m review regions`: one per location, optionally only a regime's."""
    wanted = None if regime is None else _regime(regime)
    rows: list[dict] = []
    for loc in locations(cloud):
        held = regimes_of(loc)
        if wanted is not None and wanted not in held:
            continue
        row: dict = {
            "cloud": loc.cloud.value,
            "region": loc.name,
            "country": loc.country,
            "regimes": [r.value for r in held],
        }
        if loc.country is None:
            row["kind"] = loc.kind.value
            row["countries"] = sorted(loc.countries)
        rows.append(row)
    return rows
