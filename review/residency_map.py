"""The residency map as data: hubs and edges in their regime's jurisdiction, each hub's buckets
where their data sits, and the flows between them, crossings marked with why.

It is written to report.json as is; review/mermaid.py draws it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

from components.regions import inside, locate, regimes_of
from components.settings import Settings
from policies.obsfleet_residency.api import Located, Subject, place
from review.model import StackOutcome

OUTSIDE = "outside"
"""Jurisdiction of a location no regime holds."""


@dataclass(frozen=True)
class MapNode:
    key: str
    """Unique name in the report: the stack name for hubs and edges, the URN for buckets."""
    kind: str
    """hub | edge | bucket"""
    label: str
    jurisdiction: str
    """The regime whose subgraph holds the node, or `outside`."""
    stack: str
    failed: bool = False
    where: str = ""
    """Cloud and location (`aws eu-west-1`): clean buckets of one stack in one place fold into one node."""


@dataclass(frozen=True)
class MapFlow:
    source: str
    target: str
    label: str
    crossing: bool
    reason: Optional[str] = None
    """Why the flow crosses a boundary (shown in the report next to the red arrow)."""


@dataclass
class ResidencyMap:
    nodes: list[MapNode] = field(default_factory=list)
    flows: list[MapFlow] = field(default_factory=list)

    def jurisdictions(self) -> list[str]:
        """Regimes in first-seen order, `outside` last."""
        seen = list(dict.fromkeys(n.jurisdiction for n in self.nodes if n.jurisdiction != OUTSIDE))
        return seen + ([OUTSIDE] if any(n.jurisdiction == OUTSIDE for n in self.nodes) else [])

    def to_json(self) -> dict:
        return {
            "jurisdictions": [
                {"name": j, "nodes": [n.key for n in self.nodes if n.jurisdiction == j]} for j in self.jurisdictions()
            ],
            "nodes": [asdict(n) for n in self.nodes],
            "flows": [asdict(f) for f in self.flows],
        }


SIGNALS = "metrics, traces, logs"
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "gcp:storage/bucket:Bucket")
REPLICATION_TYPE = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def residency_map(outcomes: Sequence[StackOutcome]) -> ResidencyMap:
    """Hubs and edges in their regime's subgraph, each hub's buckets where their data sits.

    Flows: edge -> the hub its `hubStack` names (metrics, traces, logs), hub -> each bucket it
    stores in, bucket -> replica. A flow is crossing (drawn red) when an edge ships to a hub of
    another regime or outside its countries, or a bucket/replica lies outside its stack's
    countries (or where, cannot be told). A failed stack is still drawn: its attempted flow is
    what the reader needs to see.
    """
    residency = ResidencyMap()
    by_name = {o.name: o for o in outcomes}
    for outcome in outcomes:
        settings = outcome.config.settings
        kind = "hub" if outcome.config.is_hub else "edge"
        where = f"{settings.cloud.value} {settings.region}"
        state = {"failed": " · FAILED", "skipped": " · NOT PREVIEWED"}.get(outcome.status, "")
        residency.nodes.append(
            MapNode(outcome.name, kind, f"{outcome.name}\n{where}{state}", settings.regime.value, outcome.name,
                    failed=outcome.status != "ok", where=where)
        )
    for outcome in outcomes:
        hub = by_name.get(outcome.config.hub or "")
        if hub is not None:
            residency.flows.append(_telemetry_flow(outcome, hub))
        _add_buckets(residency, outcome)
    return residency


def _telemetry_flow(edge: StackOutcome, hub: StackOutcome) -> MapFlow:
    mine, theirs = edge.config.settings, hub.config.settings
    reason = None
    if mine.regime is not theirs.regime:
        reason = f"{edge.name} ({mine.regime.value}) ships to {hub.name} ({theirs.regime.value})"
    elif not inside(locate(theirs.cloud, theirs.region), mine.countries):
        reason = f"{edge.name} ships to {hub.name} in {theirs.region}, outside its allowed countries"
    return MapFlow(edge.name, hub.name, SIGNALS, reason is not None, reason)


def _add_buckets(residency: ResidencyMap, outcome: StackOutcome) -> None:
    by_urn = {r["urn"]: r for r in outcome.resources}
    buckets = [r for r in outcome.resources if r.get("type") in BUCKET_TYPES]
    replicas = _replication(outcome.resources, buckets)
    settings = outcome.config.settings
    for record in buckets:
        jurisdiction, where, reason = _bucket_place(record, by_urn, settings)
        name = record["urn"].split("::")[-1]
        residency.nodes.append(MapNode(record["urn"], "bucket", f"{name}\n{where}", jurisdiction, outcome.name,
                                       where=where))
        sources = [source for source, targets in replicas.items() if record["urn"] in targets]
        for source in sources or [outcome.name]:
            label = "replicates" if sources else "stores"
            residency.flows.append(MapFlow(source, record["urn"], label, reason is not None,
                                           reason and f"{outcome.name}: {name} {reason}"))
    for source, targets in replicas.items():
        for target in targets:
            if target not in by_urn:  # a destination this stack does not declare
                if all(node.key != target for node in residency.nodes):
                    residency.nodes.append(MapNode(target, "bucket", f"{target}\nnot in this stack", OUTSIDE, outcome.name))
                residency.flows.append(MapFlow(source, target, "replicates", True,
                                               f"{outcome.name}: replicates to {target}, whose location is unknown"))


def _bucket_place(record: dict, by_urn: dict, settings: Settings) -> tuple[str, str, Optional[str]]:
    """(jurisdiction, location text, why it crosses or None)."""
    placement = place(Subject(_PolicyResource.of(record, by_urn)))
    if not isinstance(placement, Located):
        reason = placement.reason if placement is not None else "no cloud location"
        return OUTSIDE, "location unknown", f"cannot be placed: {reason}"
    location = placement.location
    where = f"{location.cloud.value} {location.name}"
    if inside(location, settings.countries):
        return settings.regime.value, where, None
    holders = regimes_of(location)
    jurisdiction = holders[0].value if holders else OUTSIDE
    countries = ", ".join(sorted(location.countries))
    return jurisdiction, where, f"is in {location.name} ({countries}), outside {settings.regime.value}"


@dataclass(frozen=True)
class _Dependency:
    urn: str


@dataclass(frozen=True)
class _PolicyResource:
    """An export record in the shape the policy SDK hands policies (`PolicyResource`), so the
    pack's own regional attribution places it: one source of truth for where data sits."""

    urn: str
    resource_type: str
    name: str
    props: dict
    provider: Optional["_PolicyResource"] = None
    property_dependencies: dict = field(default_factory=dict)

    @classmethod
    def of(cls, record: dict, by_urn: dict) -> "_PolicyResource":
        provider = by_urn.get(str(record.get("provider", "")).rsplit("::", 1)[0])
        return cls(
            urn=record["urn"],
            resource_type=record["type"],
            name=record["urn"].split("::")[-1],
            props=record.get("inputs") or {},
            provider=cls.of(provider, {}) if provider else None,
            property_dependencies={k: [_Dependency(u) for u in v]
                                   for k, v in (record.get("propertyDependencies") or {}).items()},
        )


def _replication(resources: list[dict], buckets: list[dict]) -> dict[str, list[str]]:
    """Source bucket URN -> destination bucket URNs (or ARNs of buckets this stack lacks).

    Linked by property dependencies (URNs are known even while names are not), else by the
    bucket name / ARN in the inputs.
    """
    urns = {b["urn"] for b in buckets}
    by_name = {str(b.get("outputs", {}).get(key)): b["urn"] for b in buckets for key in ("bucket", "arn", "name")
               if b.get("outputs", {}).get(key)}
    links: dict[str, list[str]] = {}
    for record in resources:
        if record.get("type") != REPLICATION_TYPE:
            continue
        deps = record.get("propertyDependencies") or {}
        inputs = record.get("inputs") or {}
        source = next((u for u in deps.get("bucket", []) if u in urns), by_name.get(str(inputs.get("bucket"))))
        if source is None:
            continue
        targets = [u for u in deps.get("rules", []) if u in urns and u != source]
        if not targets:
            arns = [(r.get("destination") or {}).get("bucket") for r in inputs.get("rules") or [] if isinstance(r, dict)]
            targets = [by_name.get(arn, arn) for arn in arns if isinstance(arn, str)]
        known = links.setdefault(source, [])
        known.extend(t for t in dict.fromkeys(targets) if t not in known)
    return links
