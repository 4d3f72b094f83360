"""Where a resource keeps its data, and which residency boundary it must stay in.

Regional attribution (DESIGN.md): an AWS resource's region is its own `region` if set, else its
provider's `region`; a GCP resource's location is `location` (region, zone, dual- or
multi-region; `customPlacementConfig.dataLocations` for a configurable dual-region), else
`region`, else `zone`, else its provider's `region`. Explicit and default providers look alike:
both arrive as the provider's inputs (a default provider's come from `aws:region` etc.).

The boundary: the policy config's `regime` (with `allowedCountries` / `allowAdequacy`), else the
`data-residency` tag/label the ResidencyBoundary puts on its providers (AWS `defaultTags.tags`,
GCP `defaultLabels`), else the resource's own tags/labels. The provider's comes first: the
boundary owns it, so a resource cannot tag itself out of the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional, Union

from ._regions import (
    Cloud,
    Location,
    Regime,
    UnknownLocation,
    locate,
    locate_placement,
    locate_zone,
    regime_countries,
)
from ._values import UNKNOWN, dig, json_object, mapping, plain, text

RESIDENCY_TAG = "data-residency"
STACK_TYPE = "pulumi:pulumi:Stack"

_PROVIDER_PREFIX = "pulumi:providers:"
_DEFAULTS = {Cloud.AWS: "defaultTags", Cloud.GCP: "defaultLabels"}  # provider inputs carrying default tags/labels
# Where each cloud keeps a resource's own tags/labels (inputs first, then merged outputs).
_OWN_TAGS = {Cloud.AWS: ("tags", "tagsAll"), Cloud.GCP: ("labels", "effectiveLabels", "pulumiLabels")}


class Subject:
    """A resource as the policies read it: its properties, its provider's inputs (when that is
    this cloud's provider) and its property dependencies. Values are converted by `plain` one
    top-level property at a time, on read: stack policies see every resource but read few."""

    def __init__(self, resource: Any) -> None:
        """`resource`: the SDK's ResourceValidationArgs or PolicyResource, or an object like them."""
        self.urn: str = resource.urn
        self.type: str = resource.resource_type
        self.name: str = resource.name
        self.cloud: Optional[Cloud] = cloud_of(self.type)
        provider = getattr(resource, "provider", None)
        if provider is not None and (self.cloud is None or provider.resource_type != _PROVIDER_PREFIX + self.cloud.value):
            provider = None  # another package's provider says nothing about where this resource is
        self.has_provider = provider is not None
        self.provider_name: str = provider.name if provider is not None else ""
        self._props = mapping(resource.props)
        self._provider_props = mapping(provider.props) if provider is not None else {}
        self._deps: Mapping[str, Any] = getattr(resource, "property_dependencies", None) or {}

    def get(self, key: str) -> Any:
        """Top-level property `key`, plain (None when absent)."""
        return plain(self._props.get(key))

    def provider_get(self, key: str) -> Any:
        """The provider's input `key`, plain (None when absent or no provider of this cloud)."""
        return plain(self._provider_props.get(key))

    def deps(self, key: str) -> list[str]:
        """URNs property `key` depends on."""
        return [dependency.urn for dependency in self._deps.get(key, ())]


_CLOUDS = {cloud.value: cloud for cloud in Cloud}


def cloud_of(type_token: str) -> Optional[Cloud]:
    """The cloud of a resource type ("aws:s3/bucket:Bucket" -> AWS); None for others and providers."""
    return _CLOUDS.get(type_token.partition(":")[0])


# --- where ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    location: Location
    source: str  # which property said so, for messages


@dataclass(frozen=True)
class Unlocated:
    """No catalog location: `certain` when the name is known but not in the catalog (fail
    closed), not certain when the value is unknown (preview), secret or missing altogether."""

    reason: str
    certain: bool


Placement = Union[Located, Unlocated]


def place(subject: Subject) -> Optional[Placement]:
    """Where the subject keeps its data; None for resources no cloud region applies to."""
    cloud = subject.cloud
    if cloud is None:
        return None
    candidates = _aws_candidates(subject) if cloud is Cloud.AWS else _gcp_candidates(subject)
    for source, value in candidates:
        if value is None or value == "":  # unset: the next source decides
            continue
        if value is UNKNOWN:
            return Unlocated(f"its {source} is not known yet (computed during the update, or secret)", certain=False)
        return _locate(cloud, source, value)
    where = f"provider '{subject.provider_name}'" if subject.has_provider else "no provider"
    return Unlocated(f"neither the resource nor its provider sets a region ({where})", certain=False)


def _aws_candidates(subject: Subject) -> list[tuple[str, Any]]:
    return [("`region`", subject.get("region")), *_provider_candidates(subject, "region")]


def _gcp_candidates(subject: Subject) -> list[tuple[str, Any]]:
    placement = dig(subject.get("customPlacementConfig"), "dataLocations")
    own = [
        ("`customPlacementConfig.dataLocations`", placement if placement else None),
        ("`location`", subject.get("location")),
        ("`region`", subject.get("region")),
        ("`zone`", subject.get("zone")),
    ]
    return own + _provider_candidates(subject, "region", "zone")


def _provider_candidates(subject: Subject, *keys: str) -> list[tuple[str, Any]]:
    return [(f"provider '{subject.provider_name}' `{key}`", subject.provider_get(key)) for key in keys]


def _locate(cloud: Cloud, source: str, value: Any) -> Placement:
    try:
        if isinstance(value, list):
            if any(member is UNKNOWN for member in value):
                return Unlocated(f"its {source} is not known yet (computed during the update)", certain=False)
            return Located(locate_placement(cloud, value), source)
        try:
            return Located(locate(cloud, value), source)
        except UnknownLocation:
            return Located(locate_zone(cloud, value), source)
    except UnknownLocation:
        return Unlocated(f"its {source} {value!r} is not a {cloud.value} location in the region catalog", certain=True)


def describe(located: Located) -> str:
    """"eu-west-2 (Europe (London), GB)" for messages."""
    location = located.location
    return f"{location.name} ({location.description}, {', '.join(sorted(location.countries))})"


# --- which boundary --------------------------------------------------------------------------


@dataclass(frozen=True)
class Boundary:
    regime: Regime
    countries: frozenset[str]
    source: str

    def describe(self) -> str:
        return f"the {self.regime.value} boundary (from {self.source}; allowed: {', '.join(sorted(self.countries))})"


@dataclass(frozen=True)
class NoBoundary:
    reason: str


def boundary(config: Mapping[str, Any], subject: Subject) -> Union[Boundary, NoBoundary]:
    """The boundary `subject` must stay in, from the policy config or its data-residency tag."""
    configured = config.get("regime")
    if configured:
        return _boundary(str(configured), config, "the policy config")
    tagged, source = residency_tag(subject)
    if tagged is None:
        return NoBoundary("no `regime` in the policy config and no data-residency tag/label on it or its provider")
    if tagged is UNKNOWN:
        return NoBoundary(f"its data-residency tag/label ({source}) is not known yet")
    return _boundary(tagged, config, source)


def _boundary(regime: str, config: Mapping[str, Any], source: str) -> Union[Boundary, NoBoundary]:
    allowed = config.get("allowedCountries")
    if allowed is not None and not (isinstance(allowed, list) and all(isinstance(code, str) for code in allowed)):
        return NoBoundary(f"the policy config's allowedCountries {allowed!r} is not a list of country codes")
    try:
        countries = _countries(regime, tuple(allowed) if allowed is not None else None, config.get("allowAdequacy") is True)
    except ValueError as err:  # UnknownRegime included
        return NoBoundary(f"{source}: {err}")
    return Boundary(Regime(regime), countries, source)


@lru_cache(maxsize=64)
def _countries(regime: str, allowed: Optional[tuple[str, ...]], adequacy: bool) -> frozenset[str]:
    return regime_countries(regime, allowed, adequacy)


def residency_tag(subject: Subject) -> tuple[Any, str]:
    """The data-residency tag/label value (str, UNKNOWN or None) and where it was found."""
    cloud = subject.cloud
    if cloud is None:
        return None, ""
    if subject.has_provider:
        value = _default_tag(cloud, subject.provider_get(_DEFAULTS[cloud]))
        if value is not None:
            return text(value), f"provider '{subject.provider_name}' default {_tag_word(cloud)}s"
    for key in _OWN_TAGS[cloud]:
        value = dig(subject.get(key), RESIDENCY_TAG)
        if value is not None:
            return text(value), f"its `{key}`"
    return None, ""


def _default_tag(cloud: Cloud, defaults: Any) -> Any:
    """The data-residency value in a provider's `defaultTags` ({"tags": {...}}) / `defaultLabels`."""
    found = json_object(defaults)
    return dig(found, "tags", RESIDENCY_TAG) if cloud is Cloud.AWS else dig(found, RESIDENCY_TAG)


def _tag_word(cloud: Cloud) -> str:
    return "tag" if cloud is Cloud.AWS else "label"


def stack_regime(config: Mapping[str, Any], resources: Iterable[Any]) -> Union[Regime, NoBoundary]:
    """The whole stack's regime: the policy config's, else the one regime its resources declare."""
    configured = config.get("regime")
    if configured:
        try:
            return Regime(configured)
        except ValueError:
            return NoBoundary(f"the policy config's regime {configured!r} is not a regime")
    found = {value for value in map(_declared_regime, resources) if isinstance(value, str)}
    if len(found) == 1:
        (only,) = found
        try:
            return Regime(only)
        except ValueError:
            return NoBoundary(f"the stack declares regime {only!r}, which is not a regime")
    if found:
        return NoBoundary(f"its resources declare several regimes ({', '.join(sorted(found))})")
    return NoBoundary("no `regime` in the policy config, no data-residency tag/label and no `regime` output")


def _declared_regime(resource: Any) -> Any:
    """The regime a resource declares: a provider's default tags/labels, a cloud resource's
    data-residency tag/label, the Stack's `regime` output (DESIGN.md: hubs and edges export it)."""
    kind = resource.resource_type
    if kind == STACK_TYPE:
        return plain(mapping(resource.props).get("regime"))
    if kind.startswith(_PROVIDER_PREFIX):
        cloud = _CLOUDS.get(kind.removeprefix(_PROVIDER_PREFIX))
        return _default_tag(cloud, plain(mapping(resource.props).get(_DEFAULTS[cloud]))) if cloud else None
    return residency_tag(Subject(resource))[0] if cloud_of(kind) else None


def stack_urn(resources: Iterable[Any]) -> str:
    """The Stack resource's URN, to attach stack-wide findings to ("" if absent)."""
    return next((r.urn for r in resources if r.resource_type == STACK_TYPE), "")


def all_subjects(resources: Iterable[Any]) -> list[Subject]:
    """Subjects of the cloud resources among `resources` (plain-converted once)."""
    return [Subject(r) for r in resources if cloud_of(r.resource_type) is not None]
