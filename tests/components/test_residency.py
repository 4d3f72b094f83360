"""Residency rules: a location inside the regime's countries passes; one outside, or unknown, is named."""

from __future__ import annotations

import re

import pytest

from components.regions import Cloud, Regime, regime_countries
from components.residency import ResidencyError, outside_reason, require_inside

GDPR = regime_countries(Regime.GDPR, None, False)


@pytest.mark.parametrize(("cloud", "name"), [(Cloud.AWS, "eu-central-1"), (Cloud.GCP, "EU"), (Cloud.GCP, "europe-west3")])
def test_inside_has_no_reason(cloud: Cloud, name: str) -> None:
    assert outside_reason(cloud, name, Regime.GDPR, GDPR) is None
    require_inside("region", cloud, name, Regime.GDPR, GDPR)


@pytest.mark.parametrize(
    ("cloud", "name", "reason"),
    [
        (Cloud.AWS, "us-east-1", r"^'us-east-1' \(US\) is outside the gdpr boundary \(allowed: AT, BE, "),
        (Cloud.GCP, "US", r"^'US' \(US\) is outside the gdpr boundary"),
        (Cloud.AWS, "eu-central-1", r"^'eu-central-1' \(DE\) is outside the gdpr boundary \(allowed: FR\)$"),
        (Cloud.AWS, "mars-north-1", r"^unknown aws region 'mars-north-1'"),
    ],
)
def test_outside_is_named(cloud: Cloud, name: str, reason: str) -> None:
    countries = frozenset({"FR"}) if name == "eu-central-1" else GDPR
    assert re.match(reason, outside_reason(cloud, name, Regime.GDPR, countries) or "")
    with pytest.raises(ResidencyError, match="^obsfleet:replicaRegion: " + reason.lstrip("^")):
        require_inside("replicaRegion", cloud, name, Regime.GDPR, countries)
