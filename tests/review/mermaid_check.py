"""A checker for the Mermaid subset review/mermaid.py writes, so the report's diagram is tested
without a browser (Mermaid's own parser needs one; no PyPI package validates Mermaid offline).

`parse` reads back exactly that subset (flowchart, subgraph/end, node declarations, labelled
links, linkStyle/classDef/class/style) and rejects anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from review.mermaid import SHAPES

# Names Mermaid's flowchart grammar reserves: a node id spelled like one breaks the diagram.
RESERVED = frozenset(
    "end subgraph graph flowchart style linkStyle classDef class click call href direction default".split()
)
DIRECTIONS = ("TB", "TD", "BT", "RL", "LR")


class MermaidError(ValueError):
    """Text outside the checked Mermaid subset; the message names the line."""


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
