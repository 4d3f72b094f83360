"""Where a resource keeps its data, and which residency boundary it must stay in.

Regional attribution (docs/design.md): an AWS resource's region is its own `region` if set, else its
provider's `region`; a GCP resource's location is `location` (region, zone, dual- or
multi-region; `customPlacementConfig.dataLocations` for a configurable dual-region), else
`region`, else `zone`, else its provider's `region`. Each is read from the resource's inputs
(as declared), else its outputs (as the cloud reports them: the engine's state of an existing
resource), and the provider's from its inputs, then its outputs. Explicit and default providers
look alike: both arrive as the provider's inputs (a default provider's come from `aws:region`).

The boundary (`stack_boundary`): the policy config's `regime` (with `allowedCountries` /
`allowAdequacy`), else the one regime the stack declares: its ResidencyBoundary components'
`regime` (and the `countries` they enforce), the `data-residency` tag/label the boundary puts on
its providers (AWS `defaultTags.tags`, GCP `defaultLabels`) and its Stack's `regime` output. A
resource's own tags declare nothing: a resource cannot choose its boundary.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from ._regions import (
    ISO_COUNTRIES,
    Cloud,
    Location,
    Regime,
    UnknownLocation,
    locate,
    locate_placement,
    locate_zone,
    regime_countries,
)
from ._values import UNKNOWN, dig, items, json_array, json_object, mapping, plain

RESIDENCY_TAG = "data-residency"
STACK_TYPE = "pulumi:pulumi:Stack"

_PROVIDER_PREFIX = "pulumi:providers:"
_DEFAULTS = {Cloud.AWS: "defaultTags", Cloud.GCP: "defaultLabels"}  # provider inputs carrying default tags/labels


# Each resource's inputs, recorded when Analyze sees it (`declare`): AnalyzeStack carries outputs
# only. The engine analyses every resource of a deployment before the stack, in one pack process;
# a URN's entry is replaced at each analysis, so a later run never reads an earlier one's inputs.
_DECLARED: dict[str, Mapping[str, Any]] = {}


@dataclass
class _Analysed:
    """What Analyze has learnt of one stack's boundary so far (`analysis_boundary`)."""

    declarations: dict[str, list["Declaration"]] = field(default_factory=dict)  # by URN, only those that declare
    opaque: set[str] = field(default_factory=set)  # boundary components whose inputs record no countries


# By stack ("urn:pulumi:<stack>::<project>"); dropped when the stack is analysed anew or judged.
_ANALYSED: dict[str, _Analysed] = {}


def declare(subject: "Subject") -> None:
    """Record `subject`'s properties as its declared inputs, and what they declare about the
    stack's boundary (call from Analyze only)."""
    _DECLARED[subject.urn] = subject._props
    if subject.type == STACK_TYPE:  # the engine registers it first: a new deployment of that stack
        _ANALYSED.pop(_stack_key(subject.urn), None)
    record = _ANALYSED.setdefault(_stack_key(subject.urn), _Analysed())
    declared = _declared_in(subject.type, subject.name, [subject._props])
    if declared:  # few resources declare: each analysis reads them all
        record.declarations[subject.urn] = declared
    else:
        record.declarations.pop(subject.urn, None)
    if subject.type.endswith(BOUNDARY_SUFFIX) and _country_list(plain(subject._props.get("countries"))) is None:
        record.opaque.add(subject.urn)
    else:
        record.opaque.discard(subject.urn)


def forget_analysis() -> None:
    """Drop what Analyze learnt: the stack it belongs to has been judged."""
    _ANALYSED.clear()


def _stack_key(urn: str) -> str:
    return "::".join(urn.split("::", 2)[:2])


class Subject:
    """A resource as the policies read it: its properties, its provider's inputs (when that is
    this cloud's provider) and outputs (when the stack is known), its inputs as declared and its
    property dependencies. Values are converted by `plain` one top-level property at a time, on
    read: stack policies see every resource but read few."""

    def __init__(self, resource: Any, stack: Optional[Mapping[str, Any]] = None) -> None:
        """`resource`: the SDK's ResourceValidationArgs or PolicyResource, or an object like them;
        `stack`: every resource of the stack by URN (AnalyzeStack), for the provider's outputs."""
        self.urn: str = resource.urn
        self.type: str = resource.resource_type
        self.name: str = resource.name
        self.cloud: Optional[Cloud] = cloud_of(self.type)
        provider = getattr(resource, "provider", None)
        if provider is not None and (self.cloud is None or provider.resource_type != _PROVIDER_PREFIX + package_of(self.type)):
            provider = None  # another package's provider says nothing about where this resource is
        self.has_provider = provider is not None
        self.provider_name: str = provider.name if provider is not None else ""
        self._props = mapping(resource.props)
        self._provider_props = mapping(provider.props) if provider is not None else {}
        provider_state = stack.get(provider.urn) if provider is not None and stack else None
        self._provider_outputs = mapping(provider_state.props) if provider_state is not None else {}
        self._deps: Mapping[str, Any] = getattr(resource, "property_dependencies", None) or {}

    def get(self, key: str) -> Any:
        """Top-level property `key`, plain (None when absent)."""
        return plain(self._props.get(key))

    def keys(self) -> list[str]:
        return [key for key in self._props if isinstance(key, str)]

    def declared(self, key: str) -> Any:
        """Input `key` as Analyze saw it (None when absent or not analysed)."""
        declared = _DECLARED.get(self.urn)
        return plain(declared.get(key)) if declared is not None and declared is not self._props else None

    def provider_get(self, key: str) -> Any:
        """The provider's input `key`, plain (None when absent or no provider of this cloud)."""
        return plain(self._provider_props.get(key))

    def provider_output(self, key: str) -> Any:
        """The provider's output `key` (AnalyzeStack only), plain."""
        return plain(self._provider_outputs.get(key))

    def deps(self, key: str) -> list[str]:
        """URNs property `key` depends on."""
        return [dependency.urn for dependency in self._deps.get(key, ())]


# Packages whose resources sit in a cloud's regions: the bridged providers and the native ones
# (AWS Cloud Control, Google APIs), which place data by the same region/location settings.
_CLOUDS = {"aws": Cloud.AWS, "aws-native": Cloud.AWS, "gcp": Cloud.GCP, "google-native": Cloud.GCP}


def package_of(type_token: str) -> str:
    """The package of a resource type ("aws-native:s3:Bucket" -> "aws-native")."""
    return type_token.partition(":")[0]


def cloud_of(type_token: str) -> Optional[Cloud]:
    """The cloud of a resource type ("aws:s3/bucket:Bucket" -> AWS); None for others and providers."""
    return _CLOUDS.get(package_of(type_token))


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
    redirected = _endpoint_placement(subject)
    if redirected is not None:
        return redirected
    candidates = _aws_candidates(subject) if cloud is Cloud.AWS else _gcp_candidates(subject)
    for source, value in candidates:
        if value is None or value == "":  # unset: the next source decides
            continue
        if value is UNKNOWN:
            return Unlocated(f"its {source} is not known yet (computed during the update, or secret)", certain=False)
        return placement_at(cloud, source, value)
    where = f"provider '{subject.provider_name}'" if subject.has_provider else "no provider"
    return Unlocated(f"neither the resource nor its provider sets a region ({where})", certain=False)


# A provider can send a service's API calls to a custom endpoint (pulumi-aws `endpoints: [{s3: url}]`,
# pulumi-gcp `storageCustomEndpoint`): the resource is created wherever that endpoint is, whatever
# the region settings say. The cloud's own regional endpoints name their region in the host.
_CLOUD_HOSTS = {Cloud.AWS: (".amazonaws.com", ".amazonaws.com.cn", ".api.aws"), Cloud.GCP: (".googleapis.com",)}
_HOST_REGION = {
    Cloud.AWS: re.compile(r"(?:^|[.-])([a-z]{2}(?:-[a-z]+)+-\d)(?:\.|$)"),
    Cloud.GCP: re.compile(r"(?:^|\.)([a-z]+-[a-z]+\d)\.rep\.googleapis\.com$"),
}


def _endpoint_placement(subject: Subject) -> Optional[Placement]:
    """Where a custom endpoint for the subject's service sends it, if its provider sets one."""
    cloud = subject.cloud
    service = subject.type.partition(":")[2].partition("/")[0].partition(":")[0]
    if cloud is None or not service or not subject.has_provider:
        return None
    key, found = ("endpoints", None) if cloud is Cloud.AWS else (f"{service}CustomEndpoint", None)
    for read in (subject.provider_get, subject.provider_output):
        value = read(key)
        if cloud is Cloud.AWS:
            listed = items(json_array(value))
            value = next((dig(entry, service) for entry in listed if isinstance(entry, dict) and dig(entry, service)), None) \
                if isinstance(listed, list) else listed
        if value:
            found = value
            break
    if found is None:
        return None
    source = f"provider '{subject.provider_name}' endpoint for {service}"
    if not isinstance(found, str):
        return Unlocated(f"its {source} is not known yet (computed during the update, or secret)", certain=False)
    host = (urlsplit(found.strip()).hostname or found.strip()).lower()
    if not host.endswith(_CLOUD_HOSTS[cloud]):
        return Unlocated(f"its {source} is {found!r}, outside {cloud.value}: where it stores data cannot be verified",
                         certain=True)
    region = _HOST_REGION[cloud].search(host)
    return placement_at(cloud, f"{source} ({host})", region.group(1)) if region else None


def _aws_candidates(subject: Subject) -> list[tuple[str, Any]]:
    return [*_own_candidates(subject, ("`region`", lambda read: read("region"))), *_provider_candidates(subject, "region")]


def _gcp_candidates(subject: Subject) -> list[tuple[str, Any]]:
    def placement(read: Any) -> Any:
        locations = dig(read("customPlacementConfig"), "dataLocations")
        return locations if locations else None

    own = _own_candidates(
        subject,
        ("`customPlacementConfig.dataLocations`", placement),
        ("`location`", lambda read: read("location")),
        ("`region`", lambda read: read("region")),
        ("`zone`", lambda read: read("zone")),
    )
    return own + _provider_candidates(subject, "region", "zone")


def _own_candidates(subject: Subject, *keys: tuple[str, Any]) -> list[tuple[str, Any]]:
    """Each own location setting from the declared inputs, then from the properties at hand."""
    declared = [(f"input {source}", read(subject.declared)) for source, read in keys]
    return declared + [(source, read(subject.get)) for source, read in keys]


def _provider_candidates(subject: Subject, *keys: str) -> list[tuple[str, Any]]:
    name = f"provider '{subject.provider_name}'"
    return [(f"{name} `{key}`", subject.provider_get(key)) for key in keys] + [
        (f"{name} output `{key}`", subject.provider_output(key)) for key in keys
    ]


# Where a resource names a KMS key, the key's own location: a key elsewhere holds the data's keys
# elsewhere (and S3/GCS only accept keys of the bucket's own region, so it also breaks encryption).
# Matched case-insensitively and around whitespace: a spelling the cloud might still resolve is judged.
_AWS_KEY_ARN = re.compile(r"^\s*arn:aws[a-z-]*:kms:([a-z0-9-]+):", re.IGNORECASE)
_GCP_KEY_PATH = re.compile(r"(?:^\s*|/)locations/([A-Za-z0-9-]+)/keyRings/", re.IGNORECASE)
_KEY_DEPTH = 6


# Nested settings that send a copy of the data to a region (DynamoDB and Secrets Manager
# `replicas[].regionName` / `region`, ECR replication `destinations[].region`, `replicaRegion`, a
# bucket's reported `bucketRegion`). `source...` regions are where data comes from, not where it goes.
_REGION_KEY = re.compile(r"^(region|regionName|[a-z]+Region)$")
# A regional ARN under a destination, target or endpoint setting sends data to that ARN's region:
# an AWS Backup copy action's `destinationVaultArn`, a log subscription's `destinationArn`, a
# DataSync task's `destinationLocationArn`, a dead-letter `targetArn`, an SNS subscription's `endpoint`.
_DESTINATION_KEY = re.compile(r"destination|target|endpoint", re.IGNORECASE)
_REGIONAL_ARN = re.compile(r"^\s*arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]+):", re.IGNORECASE)


def key_placements(subject: Subject) -> list[tuple[str, Placement]]:
    """(what, placement) of each KMS key the subject's properties reference by ARN / key path and,
    on AWS, of each region a nested setting (or a `...Region` property, or a destination ARN) sends
    data to."""
    found: list[tuple[str, Placement]] = []
    cloud = subject.cloud
    if cloud is None:
        return found
    pattern = _AWS_KEY_ARN if cloud is Cloud.AWS else _GCP_KEY_PATH
    for key in subject.keys():
        for path, name, value in _strings_under(subject.get(key), key, key, 0):
            matched = pattern.search(value)
            if matched:
                found.append((f"KMS key in `{path}`", placement_at(cloud, f"key `{path}`", matched.group(1).lower())))
            elif cloud is not Cloud.AWS:
                continue
            elif path != "region" and _REGION_KEY.match(name) and not name.startswith("source"):
                found.append((f"`{path}`", placement_at(cloud, f"`{path}`", value)))
            elif _DESTINATION_KEY.search(name) and (arn := _REGIONAL_ARN.match(value)):
                found.append((f"destination in `{path}`", placement_at(cloud, f"`{path}`", arn.group(1).lower())))
    return found


def _strings_under(value: Any, path: str, name: str, depth: int) -> Iterable[tuple[str, str, str]]:
    """(path, the key holding it, string) of each non-empty string under `value`."""
    if isinstance(value, str):
        if value:
            yield path, name, value
    elif depth < _KEY_DEPTH and isinstance(value, dict):
        for key, item in value.items():
            yield from _strings_under(item, f"{path}.{key}", str(key), depth + 1)
    elif depth < _KEY_DEPTH and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings_under(item, f"{path}[{index}]", name, depth + 1)


def placement_at(cloud: Cloud, source: str, value: Any) -> Placement:
    """Where `value` (a region, zone, GCS location or list of dataLocations) that `source` names is."""
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
    declared: bool = False  # the stack declares a regime, but one the pack cannot use (fail closed)


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


def _default_tag(cloud: Cloud, defaults: Any) -> Any:
    """The data-residency value in a provider's `defaultTags` ({"tags": {...}}) / `defaultLabels`."""
    found = json_object(defaults)
    return dig(found, "tags", RESIDENCY_TAG) if cloud is Cloud.AWS else dig(found, RESIDENCY_TAG)


def _tag_word(cloud: Cloud) -> str:
    return "tag" if cloud is Cloud.AWS else "label"


@dataclass(frozen=True)
class Conflict:
    """The stack declares several regimes: which declaration said which."""

    declarations: tuple[tuple[str, str], ...]  # (regime, where)

    def describe(self) -> str:
        return "; ".join(f"{where} says {regime!r}" for regime, where in self.declarations)


StackBoundary = Union[Boundary, NoBoundary, Conflict]
BOUNDARY_SUFFIX = ":ResidencyBoundary"


def stack_boundary(config: Mapping[str, Any], resources: Sequence[Any]) -> StackBoundary:
    """The whole stack's boundary: the policy config's regime, else the one regime the stack
    declares (its ResidencyBoundary components' `regime` and `countries`, its providers'
    data-residency tags/labels, its Stack's `regime` output); several regimes are a Conflict."""
    configured = config.get("regime")
    if configured:
        return _boundary(str(configured), config, "the policy config")
    # A provider's inputs reach AnalyzeStack with each resource it serves; its own entry has outputs.
    provider_inputs = {r.provider.urn: r.provider.props for r in resources if getattr(r, "provider", None) is not None}
    declarations = [found for resource in resources for found in _declarations(resource, provider_inputs)]
    return _declared_boundary(config, declarations)


def analysis_boundary(config: Mapping[str, Any], subject: Subject) -> Optional[Boundary]:
    """The boundary `subject` can be judged against in Analyze, before its stack exists: the policy
    config's, else the one regime that its provider and the providers and boundary components
    analysed before it declare (the engine analyses in registration order: a program declares its
    boundary and providers before what uses them), bounded by the countries those components record.
    None while that is not settled: no regime or several (AnalyzeStack reports those), or a
    boundary component whose countries only its outputs record (they may widen the regime's)."""
    if config.get("regime"):
        found = stack_boundary(config, ())
        return found if isinstance(found, Boundary) else None
    record = _ANALYSED.get(_stack_key(subject.urn), _Analysed())
    if record.opaque:
        return None
    declarations = [found for listed in list(record.declarations.values()) for found in listed]
    if subject.has_provider:
        provider_type = _PROVIDER_PREFIX + package_of(subject.type)
        declarations += _declared_in(provider_type, subject.provider_name, [subject._provider_props])
    found = _declared_boundary(config, declarations)
    return found if isinstance(found, Boundary) else None


def _declared_boundary(config: Mapping[str, Any], declarations: list["Declaration"]) -> StackBoundary:
    """The boundary the (regime, where, countries) declarations make, without a configured regime."""
    regimes = sorted({regime for regime, _where, _countries in declarations})
    if not regimes:
        return NoBoundary(
            "the pack could not tell its regime: no `regime` in the policy config, no ResidencyBoundary, "
            "no data-residency tag/label on a provider and no `regime` stack output"
        )
    if len(regimes) > 1:
        return Conflict(tuple((regime, where) for regime, where, _countries in declarations))
    (regime,) = regimes
    sources = sorted({where for _regime, where, _countries in declarations})
    source = ", ".join(sources[:3]) + (", ..." if len(sources) > 3 else "")
    declared_countries = [countries for _regime, _where, countries in declarations if countries is not None]
    found = _boundary(regime, config, source)
    if isinstance(found, NoBoundary):
        return NoBoundary(found.reason, declared=True)
    if declared_countries and config.get("allowedCountries") is None:
        # The boundary component records the countries it enforced (allowedCountries, adequacy). The
        # stack lies inside every boundary it declares: a second one can narrow the first, never widen it.
        return Boundary(found.regime, frozenset.intersection(*declared_countries), source)
    return found


Declaration = tuple[str, str, Optional[frozenset[str]]]  # (regime, where, countries or None)


def _declarations(resource: Any, provider_inputs: Mapping[str, Any]) -> list[Declaration]:
    """What `resource` declares in its outputs, its declared inputs and (a provider) the inputs its
    resources carry."""
    views = [mapping(resource.props), _DECLARED.get(resource.urn) or {}, mapping(provider_inputs.get(resource.urn))]
    return _declared_in(resource.resource_type, resource.name, views)


def _declared_in(kind: str, name: str, views: Sequence[Mapping[str, Any]]) -> list[Declaration]:
    """(regime, where, countries or None) a resource of type `kind` declares in `views` of its
    properties; an unreadable (unknown, secret) declaration declares nothing."""
    found: list[Declaration] = []
    for view in views:
        if kind == STACK_TYPE:
            regime, where, countries = plain(view.get("regime")), "the Stack's `regime` output", None
        elif kind.endswith(BOUNDARY_SUFFIX):
            regime, where = plain(view.get("regime")), f"ResidencyBoundary '{name}'"
            countries = _country_list(plain(view.get("countries")))
        elif kind.startswith(_PROVIDER_PREFIX) and kind.removeprefix(_PROVIDER_PREFIX) in _CLOUDS:
            cloud = _CLOUDS[kind.removeprefix(_PROVIDER_PREFIX)]
            regime = _default_tag(cloud, plain(view.get(_DEFAULTS[cloud])))
            where, countries = f"provider '{name}' default {_tag_word(cloud)}s", None
        else:
            return found
        if isinstance(regime, str) and regime:
            found.append((regime.strip().lower(), where, countries))
    return found


def _country_list(value: Any) -> Optional[frozenset[str]]:
    if isinstance(value, list) and value and all(isinstance(code, str) and code in ISO_COUNTRIES for code in value):
        return frozenset(value)
    return None


def stack_urn(resources: Iterable[Any]) -> str:
    """The Stack resource's URN, to attach stack-wide findings to ("" if absent)."""
    return next((r.urn for r in resources if r.resource_type == STACK_TYPE), "")


def all_subjects(resources: Sequence[Any]) -> list[Subject]:
    """Subjects of the cloud resources among `resources` (an AnalyzeStack's: providers' outputs known)."""
    stack = {r.urn: r for r in resources}
    return [Subject(r, stack) for r in resources if cloud_of(r.resource_type) is not None]
