"""The residency map as a Mermaid flowchart, and a checker for the Mermaid subset it writes.

The map is data first (`ResidencyMap`, also written to report.json) and text second (`render`).
`parse` reads back exactly the subset `render` writes (flowchart, subgraph/end, node
declarations, labelled links, linkStyle/classDef/class/style) and rejects anything else, so the
report's diagram is checked without a browser: Mermaid's own parser needs one, and no PyPI package
validates Mermaid offline.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Optional, Sequence

from components.regions import inside, locate, regime_countries, regimes_of
from policies.obsfleet_residency.api import Located, Subject, place

if TYPE_CHECKING:
    from components.settings import Settings
    from review.report import StackOutcome

# Names Mermaid's flowchart grammar reserves: a node id spelled like one breaks the diagram.
RESERVED = frozenset(
    "end subgraph graph flowchart style linkStyle classDef class click call href direction default".split()
)
DIRECTIONS = ("TB", "TD", "BT", "RL", "LR")
CROSSING_STYLE = "stroke:red,stroke-width:3px,color:red"
OUTSIDE = "outside"
"""Jurisdiction of a location no regime holds."""

SHAPES = {"box": ('["', '"]'), "cylinder": ('[("', '")]'), "stadium": ('(["', '"])'), "hexagon": ('{{"', '"}}')}
KIND_SHAPES = {"hub": "hexagon", "edge": "box", "bucket": "cylinder", "folded": "stadium"}
CLASS_STYLES = {"failed": "stroke:red,stroke-width:2px,stroke-dasharray:5 5"}


class MermaidError(ValueError):
    """Text outside the checked Mermaid subset; the message names the line."""


# --- the map as data ------------------------------------------------------------------------


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


# --- the map from the previewed fleet -----------------------------------------------------------


SIGNALS = "metrics, traces, logs"
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "gcp:storage/bucket:Bucket")
REPLICATION_TYPE = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def residency_map(outcomes: Sequence["StackOutcome"]) -> ResidencyMap:
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


def _telemetry_flow(edge: "StackOutcome", hub: "StackOutcome") -> MapFlow:
    mine, theirs = edge.config.settings, hub.config.settings
    reason = None
    if mine.regime is not theirs.regime:
        reason = f"{edge.name} ({mine.regime.value}) ships to {hub.name} ({theirs.regime.value})"
    elif not inside(locate(theirs.cloud, theirs.region), mine.countries):
        reason = f"{edge.name} ships to {hub.name} in {theirs.region}, outside its allowed countries"
    return MapFlow(edge.name, hub.name, SIGNALS, reason is not None, reason)


def _add_buckets(residency: ResidencyMap, outcome: "StackOutcome") -> None:
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


def _bucket_place(record: dict, by_urn: dict, settings: "Settings") -> tuple[str, str, Optional[str]]:
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


# --- writing ----------------------------------------------------------------------------------


_ENTITIES = {"#": "#35;", "&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;"}


def label_text(text: str) -> str:
    """A label for inside double quotes: Mermaid has no backslash escapes, only entity codes."""
    escaped = "".join(_ENTITIES.get(char, char) for char in text)
    return escaped.replace("\n", "<br/>")


FOLD_EDGES_ABOVE = 4
"""A hub with more clean edges than this shows them as one node (`412 clean edges`)."""
MAX_SHOWN_EDGES = 40
"""At most this many edges with findings drawn one by one per hub; the rest fold into one node.
With every other node folded, a 500-edge hub stays far inside Mermaid's limits (MERMAID_LIMITS)."""
MERMAID_LIMITS = {"maxTextSize": 50_000, "maxEdges": 500}
"""Mermaid 11's defaults: a larger diagram renders as an error message, not as a map."""
ID_PREFIX = {"jurisdiction": "j", "hub": "h", "edge": "e", "bucket": "b", "folded": "f"}
LEGEND = (
    "Legend: hexagon = hub, box = edge cluster, cylinder = bucket(s) (clean buckets of a hub in one place "
    "are one node), rounded box = edges folded into one node. A solid arrow carries metrics, traces and "
    "logs (edge to hub) or stored data (hub to bucket); a dotted arrow is bucket replication. A red arrow "
    "is a residency crossing, labelled with why; a dashed red outline is a stack whose program failed or "
    "was not previewed."
)


@dataclass(frozen=True)
class _Drawn:
    """A node as drawn: one map node, or several folded into one."""

    kind: str
    label: str
    jurisdiction: str
    failed: bool = False


def jurisdiction_title(jurisdiction: str) -> str:
    """What a subgraph is: a regime's jurisdiction and the countries its data stays in."""
    if jurisdiction == OUTSIDE:
        return "Outside every regime: locations no regime's countries hold"
    countries = sorted(regime_countries(jurisdiction))
    where = ", ".join(countries) if len(countries) <= 3 else f"{len(countries)} countries"
    return f"{jurisdiction.upper()} jurisdiction: data stays in {where}"


def _fold_key(node: MapNode, crossing: set[str], hub_of: dict[str, str], clean_edges: dict[str, int]) -> Optional[tuple]:
    """Which folded node `node` joins, or None to draw it alone."""
    if node.kind == "bucket" and node.key not in crossing and node.where:
        return ("bucket", node.stack, node.jurisdiction, node.where)
    if node.kind == "edge" and node.key in hub_of:
        dirty = node.failed or node.key in crossing
        if not dirty and clean_edges[hub_of[node.key]] > FOLD_EDGES_ABOVE:
            return ("edge", hub_of[node.key], node.jurisdiction, "clean")
    return None


def _layout(residency: ResidencyMap) -> tuple[dict[str, str], dict[str, _Drawn]]:
    """Map node key -> drawn id, and the drawn nodes in order (folded ones carry a count)."""
    kinds = {n.key: n.kind for n in residency.nodes}
    crossing_flows = [f for f in residency.flows if f.crossing]
    # A crossing's sender, and its receiver unless that is a hub, are drawn alone.
    crossing = {f.source for f in crossing_flows} | {f.target for f in crossing_flows if kinds.get(f.target) != "hub"}
    hub_of = {f.source: f.target for f in residency.flows if kinds.get(f.source) == "edge"}
    clean_edges: dict[str, int] = {}
    shown_dirty: dict[str, int] = {}
    for node in residency.nodes:
        if node.kind == "edge" and node.key in hub_of and not node.failed and node.key not in crossing:
            clean_edges[hub_of[node.key]] = clean_edges.get(hub_of[node.key], 0) + 1
    groups: dict[tuple, list[MapNode]] = {}
    placed: dict[str, tuple] = {}
    for node in residency.nodes:
        key = _fold_key(node, crossing, hub_of, clean_edges)
        if key is None and node.kind == "edge" and node.key in hub_of:
            hub = hub_of[node.key]
            shown_dirty[hub] = shown_dirty.get(hub, 0) + 1
            if shown_dirty[hub] > MAX_SHOWN_EDGES:
                key = ("edge", hub, node.jurisdiction, "more")
        key = key or ("single", node.key)
        groups.setdefault(key, []).append(node)
        placed[node.key] = key
    counters: dict[str, int] = {}
    ids: dict[tuple, str] = {}
    drawn: dict[str, _Drawn] = {}
    for key, members in groups.items():
        first = members[0]
        kind = first.kind if key[0] == "single" or first.kind == "bucket" else "folded"
        prefix = ID_PREFIX[kind]
        counters[prefix] = counters.get(prefix, 0) + 1
        ids[key] = f"{prefix}{counters[prefix]}"
        drawn[ids[key]] = _Drawn(kind, _group_label(key, members), first.jurisdiction,
                                 failed=any(m.failed for m in members))
    return {k: ids[placed[k]] for k in placed}, drawn


def _group_label(key: tuple, members: list[MapNode]) -> str:
    first = members[0]
    if key[0] == "single" or (first.kind == "bucket" and len(members) == 1):
        return first.label
    if first.kind == "bucket":
        return f"{len(members)} buckets of {first.stack}\n{first.where}"
    places = sorted({m.where for m in members})
    shown = ", ".join(places[:3]) + (f" +{len(places) - 3} more" if len(places) > 3 else "")
    what = "clean edges" if key[3] == "clean" else "more edges with findings"
    return f"{len(members)} {what}\n{shown}"


def render(residency: ResidencyMap, direction: str = "TB") -> str:
    """The map as Mermaid: a subgraph per jurisdiction (laid out top to bottom inside), short ids,
    labels only where they say something (node names, a crossing's reason); LEGEND explains the rest.
    Top to bottom (edges, hub, buckets) keeps jurisdictions side by side and, in Mermaid 11, a
    crossing's label beside its link."""
    ids, drawn = _layout(residency)
    lines = [f"flowchart {direction}"]
    for number, jurisdiction in enumerate(residency.jurisdictions(), 1):
        lines.append(f'  subgraph {ID_PREFIX["jurisdiction"]}{number}["{label_text(jurisdiction_title(jurisdiction))}"]')
        lines.append("    direction TB")
        for identifier, node in drawn.items():
            if node.jurisdiction == jurisdiction:
                opening, closing = SHAPES[KIND_SHAPES[node.kind]]
                lines.append(f"    {identifier}{opening}{label_text(node.label)}{closing}")
        lines.append("  end")
    links: dict[tuple[str, str], list[MapFlow]] = {}
    for flow in residency.flows:
        links.setdefault((ids[flow.source], ids[flow.target]), []).append(flow)
    red = []
    for index, ((source, target), flows) in enumerate(links.items()):
        crossings = [f for f in flows if f.crossing]
        arrow = "-.->" if all(f.label == "replicates" for f in flows) else "-->"
        if crossings:
            red.append(str(index))
            reason = crossings[0].reason or "crosses a residency boundary"
            more = f" (+{len(crossings) - 1} more)" if len(crossings) > 1 else ""
            lines.append(f'  {source} {arrow}|"{label_text(reason + more)}"| {target}')
        else:
            lines.append(f"  {source} {arrow} {target}")
    if red:
        lines.append(f"  linkStyle {','.join(red)} {CROSSING_STYLE}")
    failed = [identifier for identifier, node in drawn.items() if node.failed]
    if failed:
        lines.append(f"  classDef failed {CLASS_STYLES['failed']}")
        lines.append(f"  class {','.join(failed)} failed")
    return "\n".join(lines) + "\n"


# --- reading back -------------------------------------------------------------------------------


@dataclass
class Node:
    id: str
    label: str
    shape: str
    subgraph: Optional[str]
    classes: set[str] = field(default_factory=set)


@dataclass
class Subgraph:
    id: str
    label: str
    parent: Optional[str]
    direction: Optional[str] = None


@dataclass
class Link:
    source: str
    target: str
    label: Optional[str]
    style: str = ""

    @property
    def red(self) -> bool:
        return bool(re.search(r"(^|,)\s*stroke\s*:\s*(red|#f00|#ff0000)\b", self.style, re.I))


@dataclass
class Flowchart:
    direction: str
    nodes: dict[str, Node] = field(default_factory=dict)
    subgraphs: dict[str, Subgraph] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    class_defs: dict[str, str] = field(default_factory=dict)
    styles: dict[str, str] = field(default_factory=dict)

    def node_by_label(self, text: str) -> Node:
        """The one node whose label's first line is `text`."""
        found = [n for n in self.nodes.values() if n.label.split("<br/>")[0] == text]
        if len(found) != 1:
            raise KeyError(f"{len(found)} nodes labelled {text!r}")
        return found[0]


_ID = r"[A-Za-z][A-Za-z0-9_]*"
_QUOTED = r'"(?P<label>[^"]*)"'
_NODE = re.compile(
    rf"^(?P<id>{_ID})(?:"
    + "|".join(rf'{re.escape(o)}(?P<{shape}>[^"]*){re.escape(c)}' for shape, (o, c) in SHAPES.items())
    + ")$"
)
_LINK = re.compile(rf'^(?P<source>{_ID}) (?P<arrow>-->|-\.->|==>)(?:\|{_QUOTED}\|)? (?P<target>{_ID})$')
_DIRECTION = re.compile(rf"^direction (?P<direction>{'|'.join(DIRECTIONS)})$")
_SUBGRAPH = re.compile(rf'^subgraph (?P<id>{_ID})(?:\[{_QUOTED}\])?$')
_STYLE = r"[A-Za-z-]+\s*:\s*[^,;]+(?:,[A-Za-z-]+\s*:\s*[^,;]+)*"
_LINKSTYLE = re.compile(rf"^linkStyle (?P<which>default|\d+(?:,\d+)*) (?P<style>{_STYLE})$")
_CLASSDEF = re.compile(rf"^classDef (?P<name>{_ID}) (?P<style>{_STYLE})$")
_CLASS = re.compile(rf"^class (?P<ids>{_ID}(?:,{_ID})*) (?P<name>{_ID})$")
_NODESTYLE = re.compile(rf"^style (?P<id>{_ID}) (?P<style>{_STYLE})$")
_ENTITY = re.compile(r"#(?:[a-z]+|\d+);")


def _check_id(identifier: str, number: int) -> str:
    if identifier in RESERVED:
        raise MermaidError(f"line {number}: {identifier!r} is a Mermaid keyword, not a usable id")
    return identifier


def _check_label(label: str, number: int) -> str:
    stripped = _ENTITY.sub("", label.replace("<br/>", ""))
    if "#" in stripped or "<" in stripped or ">" in stripped:
        raise MermaidError(f"line {number}: label {label!r} has a bare '#', '<' or '>' (use an entity code)")
    return label


def parse(text: str) -> Flowchart:
    """Parse the subset `render` writes; MermaidError names the first line that is not in it.

    Beyond syntax it checks what Mermaid would accept but draw wrong: ids that are keywords,
    links to undeclared nodes, nodes declared twice, unbalanced subgraph/end, linkStyle indexes
    past the last link, classes never defined.
    """
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line and not line.startswith("%%")]
    if not lines:
        raise MermaidError("empty diagram")
    number, header = lines[0]
    match = re.fullmatch(r"flowchart (\w+)", header)
    if not match or match[1] not in DIRECTIONS:
        raise MermaidError(f"line {number}: expected 'flowchart <{'|'.join(DIRECTIONS)}>', got {header!r}")
    chart = Flowchart(match[1])
    open_subgraphs: list[str] = []
    link_styles: list[tuple[int, str, str]] = []
    class_uses: list[tuple[int, list[str], str]] = []
    for number, line in lines[1:]:
        if line == "end":
            if not open_subgraphs:
                raise MermaidError(f"line {number}: 'end' without an open subgraph")
            open_subgraphs.pop()
        elif m := _SUBGRAPH.match(line):
            identifier = _check_id(m["id"], number)
            if identifier in chart.subgraphs or identifier in chart.nodes:
                raise MermaidError(f"line {number}: id {identifier!r} declared twice")
            parent = open_subgraphs[-1] if open_subgraphs else None
            chart.subgraphs[identifier] = Subgraph(identifier, _check_label(m["label"] or identifier, number), parent)
            open_subgraphs.append(identifier)
        elif m := _DIRECTION.match(line):
            if not open_subgraphs:
                raise MermaidError(f"line {number}: 'direction' outside a subgraph")
            chart.subgraphs[open_subgraphs[-1]].direction = m["direction"]
        elif m := _LINK.match(line):
            label = m["label"]
            chart.links.append(
                Link(_check_id(m["source"], number), _check_id(m["target"], number),
                     None if label is None else _check_label(label, number))
            )
            for end in (m["source"], m["target"]):
                if end not in chart.nodes:
                    raise MermaidError(f"line {number}: link to undeclared node {end!r}")
        elif m := _LINKSTYLE.match(line):
            link_styles.append((number, m["which"], m["style"]))
        elif m := _CLASSDEF.match(line):
            chart.class_defs[m["name"]] = m["style"]
        elif m := _CLASS.match(line):
            class_uses.append((number, m["ids"].split(","), m["name"]))
        elif m := _NODESTYLE.match(line):
            chart.styles[m["id"]] = m["style"]
        elif m := _NODE.match(line):
            identifier = _check_id(m["id"], number)
            if identifier in chart.nodes or identifier in chart.subgraphs:
                raise MermaidError(f"line {number}: id {identifier!r} declared twice")
            shape = next(s for s in SHAPES if m[s] is not None)
            label = _check_label(m[shape], number)
            chart.nodes[identifier] = Node(identifier, label, shape, open_subgraphs[-1] if open_subgraphs else None)
        else:
            raise MermaidError(f"line {number}: not in the checked Mermaid subset: {line!r}")
    if open_subgraphs:
        raise MermaidError(f"subgraph {open_subgraphs[-1]!r} is never closed with 'end'")
    for number, which, style in link_styles:
        indexes = range(len(chart.links)) if which == "default" else [int(i) for i in which.split(",")]
        for index in indexes:
            if index >= len(chart.links):
                raise MermaidError(f"line {number}: linkStyle {index} but there are {len(chart.links)} links")
            chart.links[index].style = style
    for number, identifiers, name in class_uses:
        if name not in chart.class_defs:
            raise MermaidError(f"line {number}: class {name!r} is not defined by classDef")
        for identifier in identifiers:
            if identifier not in chart.nodes:
                raise MermaidError(f"line {number}: class on undeclared node {identifier!r}")
            chart.nodes[identifier].classes.add(name)
    for identifier in chart.styles:
        if identifier not in chart.nodes and identifier not in chart.subgraphs:
            raise MermaidError(f"style on undeclared node {identifier!r}")
    return chart
