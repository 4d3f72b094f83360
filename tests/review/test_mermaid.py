"""review/mermaid.py: the residency map as Mermaid text, read back by the subset checker; readable at
35 stacks, inside Mermaid's limits at 500 edges."""

from __future__ import annotations

import re
from typing import Optional

import pytest
import yaml

from review import mermaid, stacks
from review.mermaid import render
from review.model import StackOutcome
from review.residency_map import OUTSIDE, MapFlow, MapNode, ResidencyMap, residency_map
from tests import fixture_fleet
from tests.review.mermaid_check import Flowchart, MermaidError, parse


# --- writer and checker ---------------------------------------------------------------------------


def small_map() -> ResidencyMap:
    return ResidencyMap(
        nodes=[
            MapNode("hub", "hub", 'hub\n"quoted" & <b> #1', "gdpr", "hub"),
            MapNode("edge-eu", "edge", "edge-eu", "gdpr", "edge-eu", failed=True),
            MapNode("urn:b", "bucket", "b", OUTSIDE, "hub"),
        ],
        flows=[
            MapFlow("edge-eu", "hub", "metrics, traces, logs", False),
            MapFlow("hub", "urn:b", "stores", True, "outside"),
        ],
    )


def test_render_parses_back_with_nodes_in_their_subgraphs() -> None:
    chart = parse(render(small_map()))
    assert chart.direction == "TB"
    hub = chart.node_by_label("hub")
    assert chart.subgraphs[hub.subgraph].label == "GDPR jurisdiction: data stays in 30 countries"
    assert hub.shape == "hexagon"
    assert hub.label == "hub<br/>#quot;quoted#quot; #amp; #lt;b#gt; #35;1"
    bucket = chart.node_by_label("b")
    assert bucket.shape == "cylinder"
    assert chart.subgraphs[bucket.subgraph].label == "Outside every regime: locations no regime's countries hold"
    assert "failed" in chart.node_by_label("edge-eu").classes
    assert {s.direction for s in chart.subgraphs.values()} == {"TB"}


def test_only_crossing_flows_are_red_and_carry_their_reason() -> None:
    chart = parse(render(small_map()))
    assert [link.red for link in chart.links] == [False, True]
    assert [link.label for link in chart.links] == [None, "outside"]


def test_node_ids_are_short_and_distinct() -> None:
    chart = parse(render(small_map()))
    ids = [*chart.nodes, *chart.subgraphs]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z][0-9]{1,4}", i) for i in ids), ids


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty diagram"),
        ("graph LR\n", "expected 'flowchart"),
        ("flowchart XY\n", "expected 'flowchart"),
        ('flowchart LR\n  end["x"]\n', "'end' is a Mermaid keyword"),
        ('flowchart LR\n  a["x"]\n  a -->|"l"| b\n', "link to undeclared node 'b'"),
        ('flowchart LR\n  a["x"]\n  a["y"]\n', "declared twice"),
        ('flowchart LR\n  subgraph s["S"]\n  a["x"]\n', "never closed"),
        ("flowchart LR\n  end\n", "'end' without an open subgraph"),
        ('flowchart LR\n  a["x"]\n  b["y"]\n  a --> b\n  linkStyle 1 stroke:red\n', "linkStyle 1 but there are 1 links"),
        ('flowchart LR\n  a["x"]\n  class a nope\n', "class 'nope' is not defined"),
        ('flowchart LR\n  a["say "hi""]\n', "not in the checked Mermaid subset"),
        ('flowchart LR\n  a["1 < 2"]\n', "bare '#', '<' or '>'"),
        ('flowchart LR\n  a["x"] --> b["y"]\n', "not in the checked Mermaid subset"),
        ('flowchart LR\n  a["x"]\n  style b fill:red\n', "style on undeclared node 'b'"),
    ],
)
def test_checker_rejects_what_mermaid_would_break_on(text: str, message: str) -> None:
    with pytest.raises(MermaidError, match=message):
        parse(text)


def test_checker_accepts_comments_and_the_other_shapes() -> None:
    chart = parse('flowchart TB\n%% a comment\n  a(["x"])\n  b["y<br/>z"]\n  a -.->|"l"| b\n  style a fill:#eee\n')
    assert chart.nodes["a"].shape == "stadium" and chart.styles == {"a": "fill:#eee"}


# --- readable at 35 stacks, inside Mermaid's limits at 500 edges ------------------------------------------

BASE_EDGE = {"hub": "edge-eu", "hub-us": "edge-us-west", "hub-ap": "edge-ap-southeast"}


def _config(name: str) -> dict:
    document = yaml.safe_load((fixture_fleet.STACKS_DIR / f"Pulumi.{name}.yaml").read_text())
    return stacks.project_config(fixture_fleet.STACKS_DIR) | document["config"]


def synthetic_fleet(edges: dict[str, int], *, failed: frozenset[str] = frozenset(),
                    hub_of: Optional[dict[str, str]] = None, hub_resources: Optional[dict[str, list]] = None
                    ) -> list[StackOutcome]:
    """Hubs of the fixture fleet with `edges[hub]` edge stacks each (`<hub>-e001`, ...), edges in
    their base edge's region; `failed` edges failed their program; `hub_of` sends an edge to
    another hub than its own."""
    outcomes, edge_outcomes = [], []
    for hub, count in edges.items():
        base = _config(BASE_EDGE[hub])
        names = [f"{hub}-e{i:03d}" for i in range(1, count + 1)]
        values = _config(hub) | {"obsfleet:edges": [{"name": n, "region": base["obsfleet:region"]} for n in names]}
        config = stacks.from_values(hub, fixture_fleet.STACKS_DIR / f"Pulumi.{hub}.yaml", values)
        outcomes.append(StackOutcome(config, list((hub_resources or {}).get(hub, []))))
        for name in names:
            target = (hub_of or {}).get(name, hub)
            edge_values = base | {"obsfleet:cluster": name, "obsfleet:hubStack": target}
            edge = stacks.from_values(name, fixture_fleet.STACKS_DIR / f"Pulumi.{name}.yaml", edge_values)
            edge_outcomes.append(StackOutcome(edge, error="refused" if name in failed else None))
    return outcomes + edge_outcomes


def within_mermaids_limits(text: str) -> Flowchart:
    chart = parse(text)
    assert len(text) <= mermaid.MERMAID_LIMITS["maxTextSize"], len(text)
    assert len(chart.links) <= mermaid.MERMAID_LIMITS["maxEdges"], len(chart.links)
    return chart


@pytest.mark.parametrize("case", ["clean", "all failed", "crossing and failed"])
def test_a_500_edge_hub_renders_inside_mermaids_limits(case: str, fleet: dict) -> None:
    names = [f"hub-e{i:03d}" for i in range(1, 501)]
    failed = frozenset(names) if case == "all failed" else frozenset(names[::7]) if case != "clean" else frozenset()
    hub_of = {n: "hub-us" for n in names[::10]} if case == "crossing and failed" else None
    outcomes = synthetic_fleet({"hub": 500, "hub-us": 1} if hub_of else {"hub": 500}, failed=failed, hub_of=hub_of,
                               hub_resources={"hub": fleet["hub"].resources})
    residency = residency_map(outcomes)
    assert sum(f.source.startswith("hub-e") for f in residency.flows) == 500  # the data keeps every edge
    chart = within_mermaids_limits(render(residency))
    labels = [n.label for n in chart.nodes.values()]
    if case == "clean":
        assert "500 clean edges<br/>aws eu-west-1" in labels and len(chart.nodes) < 10
    else:
        drawn = sum(1 for n in chart.nodes.values() if n.label.startswith("hub-e"))
        assert drawn == mermaid.MAX_SHOWN_EDGES * (2 if hub_of else 1)  # per receiving hub
        assert any(re.fullmatch(r"\d+ more edges with findings<br/>aws eu-west-1", label) for label in labels)
    if hub_of:
        red = [link for link in chart.links if link.red]
        assert red and all(link.label and "ships to hub-us (ccpa)" in link.label for link in red)


def test_35_stacks_read_as_a_map(fleet: dict) -> None:
    """3 hubs, 32 edges: folded clean edges and buckets, a legend instead of repeated labels, one
    direction per subgraph, titles that say what each subgraph is, short ids."""
    counts = {"hub": 14, "hub-us": 14, "hub-ap": mermaid.FOLD_EDGES_ABOVE}
    resources = {hub: fleet[hub].resources for hub in counts}
    clean = synthetic_fleet(counts, hub_resources=resources)
    dirty = synthetic_fleet(counts, hub_resources=resources, failed=frozenset({"hub-e003"}),
                            hub_of={"hub-e005": "hub-us"})
    assert len(clean) == 35
    text = render(residency_map(clean))
    chart = within_mermaids_limits(text)
    assert len(chart.nodes) <= 20 and all(re.fullmatch(r"[a-z]\d{1,3}", i) for i in [*chart.nodes, *chart.subgraphs])
    assert all(link.label is None for link in chart.links)  # the legend says what the arrows carry
    assert all(s.direction == "TB" for s in chart.subgraphs.values())
    assert sorted(s.label.split(":")[0] for s in chart.subgraphs.values()) == [
        "CCPA jurisdiction", "GDPR jurisdiction", "PDPA jurisdiction"]
    assert "14 clean edges<br/>aws eu-west-1" in [n.label for n in chart.nodes.values()]
    ap_edges = [n for n in chart.nodes.values() if n.label.startswith("hub-ap-e")]
    assert len(ap_edges) == mermaid.FOLD_EDGES_ABOVE  # at the threshold: drawn one by one
    problems = parse(render(residency_map(dirty)))
    (red,) = [link for link in problems.links if link.red]
    assert red.label == "hub-e005 (gdpr) ships to hub-us (ccpa)"
    assert "failed" in problems.node_by_label("hub-e003").classes
    # The same jurisdictions in the same order, clean or not: the layout does not flip.
    assert [s.label for s in problems.subgraphs.values()] == [s.label for s in chart.subgraphs.values()]
