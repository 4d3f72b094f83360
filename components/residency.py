"""Residency rules: whether a location may hold a regime's data, and why not.

Settings validation (before any resource exists) and the components (before they register one)
ask the same question here, so a location is refused alike on both paths.
"""

from __future__ import annotations

from typing import Optional

from components.regions import Cloud, Regime, UnknownLocation, inside, locate


class ResidencyError(ValueError):
    """A location outside the boundary, or not a location at all."""


def outside_reason(cloud: Cloud, name: str, regime: Regime, countries: frozenset[str]) -> Optional[str]:
    """Why `name` (a region or GCS location) may not hold this regime's data, or None if it may."""
    try:
        location = locate(cloud, name)
    except UnknownLocation as err:
        return str(err)
    if inside(location, countries):
        return None
    where = ", ".join(sorted(location.countries))
    return f"'{name}' ({where}) is outside the {regime.value} boundary (allowed: {', '.join(sorted(countries))})"


def require_inside(key: str, cloud: Cloud, name: str, regime: Regime, countries: frozenset[str]) -> None:
    """Raise ResidencyError unless `name` (a region or GCS location of `cloud`) lies within `countries`."""
    reason = outside_reason(cloud, name, regime, countries)
    if reason:
        raise ResidencyError(f"obsfleet:{key}: {reason}")
