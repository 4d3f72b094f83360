"""The residency map (review/residency_map.py) drawn as a Mermaid flowchart.

A subgraph per jurisdiction, short ids, labels only where they say something; clean buckets of a
stack in one place and a hub's many clean edges fold into one node, so a large fleet stays inside
Mermaid's limits (MERMAID_LIMITS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from components.regions import regime_countries
from review.residency_map import OUTSIDE, MapFlow, MapNode, ResidencyMap

CROSSING_STYLE = "stroke:red,stroke-width:3px,color:red"
SHAPES = {"box": ('["', '"]'), "cylinder": ('[("', '")]'), "stadium": ('(["', '"])'), "hexagon": ('{{"', '"}}')}
KIND_SHAPES = {"hub": "hexagon", "edge": "box", "bucket": "cylinder", "folded": "stadium"}
CLASS_STYLES = {"failed": "stroke:red,stroke-width:2px,stroke-dasharray:5 5"}


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
