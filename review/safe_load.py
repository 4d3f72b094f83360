"""Reading untrusted input files (stack exports, stack files, policy config) within fixed bounds.

Every limit is enforced before the parser builds anything from the text: only regular files are
opened (a FIFO or device could block or never end), the size is capped before reading, the text
must be UTF-8, JSON nesting is measured on the raw text, YAML aliases are counted (with the size of
what they expand to) while composing, and every number token is length-checked before Python
converts it (CPython refuses ints over 4300 digits, and a float parse of a huge token is a hang
risk). NaN/Infinity and lone UTF-16 surrogates (which no JSON/YAML consumer downstream can
re-encode) are refused. Every refusal is one BadInput line naming the file, and the key when
there is one.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any, Optional

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from review.errors import BadInput


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_depth: int  # nesting of objects/arrays (mappings/sequences)
    max_number_chars: int = 32  # longest number token: int64 has 19 digits, a float repr ~24 chars
    max_aliases: int = 64  # YAML only
    max_nodes: int = 200_000  # YAML only: nodes after expanding aliases


# An export nests resources at depth 4 and the pack's gRPC path parses values recursively: 100
# levels are far beyond real provider state and well within what the pack can receive.
EXPORT = Limits(max_bytes=128 * 1024 * 1024, max_depth=100)
STACK_FILE = Limits(max_bytes=1024 * 1024, max_depth=32)
POLICY_CONFIG = Limits(max_bytes=1024 * 1024, max_depth=32)


def read_text(path: Path, limits: Limits, label: Optional[str] = None) -> str:
    """The file's text: a regular file of at most `limits.max_bytes`, valid UTF-8. `label` names
    the file in errors (default: the path)."""
    path_label = label or str(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise BadInput(f"{path_label}: not a regular file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as err:
        raise BadInput(f"{path_label}: {err.strerror or err}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between stat and open
            raise BadInput(f"{path_label}: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limits.max_bytes + 1)
    except OSError as err:
        raise BadInput(f"{path_label}: {err.strerror or err}") from None
    finally:
        os.close(fd)
    if len(data) > limits.max_bytes:
        raise BadInput(f"{path_label}: larger than {limits.max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise BadInput(f"{path_label}: not UTF-8 text (invalid byte at line {line})") from None


# --- JSON ------------------------------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _Refused(Exception):
    def __init__(self, problem: str, token: str = "") -> None:
        super().__init__(problem)
        self.problem, self.token = problem, token


def load_json(path: Path, limits: Limits = EXPORT, label: Optional[str] = None) -> Any:
    label = label or str(path)
    return parse_json(read_text(path, limits, label), label, limits)


def parse_json(text: str, label: str, limits: Limits) -> Any:
    """`text` parsed as JSON within `limits`; BadInput naming `label` (and the key) otherwise."""
    skeleton = _BRACKETS.sub("", _STRING.sub("", text))
    if skeleton and max(accumulate(map(_DEPTH_STEP.__getitem__, skeleton))) > limits.max_depth:
        raise BadInput(f"{label}: nested deeper than {limits.max_depth} levels")

    def number(kind: type) -> Any:
        def convert(token: str) -> Any:
            if len(token) > limits.max_number_chars:
                raise _Refused(f"number of {len(token)} characters (at most {limits.max_number_chars})", token)
            value = kind(token)
            if isinstance(value, float) and not math.isfinite(value):
                raise _Refused(f"number {token} is out of range", token)
            return value
        return convert

    def constant(token: str) -> Any:
        raise _Refused(f"{token} is not a JSON number", token)

    try:
        document = json.loads(text, parse_int=number(int), parse_float=number(float), parse_constant=constant)
    except _Refused as refused:
        raise BadInput(f"{label}: {_key_of(text, refused.token)}{refused.problem}") from None
    except json.JSONDecodeError as err:
        raise BadInput(f"{label}: not JSON ({err.msg} at line {err.lineno})") from None
    except RecursionError:  # the depth check above makes this unreachable for well-formed text
        raise BadInput(f"{label}: nested too deeply") from None
    except MemoryError:  # within the size limit, but more than this process may hold
        raise BadInput(f"{label}: too large to load in the memory available") from None
    if _SURROGATE_ESCAPE.search(text):
        where = _lone_surrogate(document, "")
        if where is not None:
            raise BadInput(f"{label}: {where}: a lone UTF-16 surrogate is not text")
    return document


def _key_of(text: str, token: str) -> str:
    """"<key>: " for the first `"key": <token>` in `text`, "" when the token is not an object value."""
    found = re.search(r'"((?:[^"\\]|\\.)*)"\s*:\s*' + re.escape(token) + r"(?![\w.+-])", text) if token else None
    return f"{found.group(1)}: " if found else ""


def _lone_surrogate(value: Any, path: str) -> Optional[str]:
    """The path of the first string (or key) holding a lone surrogate; iterative, bounded by size."""
    stack = [(value, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            if _has_surrogate(current):
                return where or "(top level)"
        elif isinstance(current, dict):
            for key, item in current.items():
                if _has_surrogate(key):
                    return f"{where}.{key!a}" if where else ascii(key)
                stack.append((item, f"{where}.{key}" if where else key))
        elif isinstance(current, list):
            stack.extend((item, f"{where}[{index}]") for index, item in enumerate(current))
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(text: Any) -> bool:
    return isinstance(text, str) and _SURROGATE.search(text) is not None


# --- YAML ------------------------------------------------------------------------------------------

_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


class SafeYamlLoader(yaml.SafeLoader):
    """yaml.SafeLoader that counts depth, aliases and expanded nodes while composing."""

    limits: Limits = STACK_FILE

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._nodes = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Optional[Node], index: Any) -> Node:
        limits = self.limits
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > limits.max_aliases:
                raise _Refused(f"more than {limits.max_aliases} YAML aliases")
            anchored = self.anchors.get(self.peek_event().anchor)
            self._count(_size(anchored, self._sizes) if anchored is not None else 1)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > limits.max_depth:
            raise _Refused(f"nested deeper than {limits.max_depth} levels")
        self._count(1)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _count(self, nodes: int) -> None:
        self._nodes += nodes
        if self._nodes > self.limits.max_nodes:
            raise _Refused(f"expands to more than {self.limits.max_nodes} YAML nodes (aliases)")


def _size(node: Node, sizes: dict[int, int]) -> int:
    """Nodes under `node` with aliases expanded (composed nodes are already depth-bounded)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if isinstance(node, MappingNode):
        total = 1 + sum(_size(key, sizes) + _size(value, sizes) for key, value in node.value)
    elif isinstance(node, SequenceNode):
        total = 1 + sum(_size(item, sizes) for item in node.value)
    else:
        total = 1
    sizes[id(node)] = total
    return total


def load_yaml(path: Path, limits: Limits = STACK_FILE, loader: type[SafeYamlLoader] = SafeYamlLoader,
              label: Optional[str] = None) -> Any:
    """The YAML document in `path` within `limits` (YAML is a superset of JSON). `label` names the
    file in errors (default: the path); `loader` may add checks of its own (a SafeYamlLoader)."""
    label = label or str(path)
    text = read_text(path, limits, label)
    bounded = type("BoundedLoader", (loader,), {"limits": limits})
    instance = bounded(text)
    try:
        node = instance.get_single_node()
        if node is None:
            return None
        _check_scalars(node, limits)
        return instance.construct_document(node)
    except _Refused as refused:
        raise BadInput(f"{label}: {refused.problem}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise BadInput(f"{label}:{where}: not valid YAML: {problem}") from None
    finally:
        instance.dispose()


def _check_scalars(root: Node, limits: Limits) -> None:
    """Number tokens within length and finite, no lone surrogates; each node once (aliases share)."""
    seen: set[int] = set()
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, ScalarNode) else "?"
                stack.append((key, where))
                stack.append((value, f"{where}.{name}" if where else name))
        elif isinstance(node, SequenceNode):
            stack.extend((item, f"{where}[{index}]") for index, item in enumerate(node.value))
        elif isinstance(node, ScalarNode):
            problem = _scalar_problem(node, limits)
            if problem:
                raise _Refused(f"{where}: {problem}" if where else problem)


def _scalar_problem(node: ScalarNode, limits: Limits) -> str:
    value = node.value
    if _has_surrogate(value):
        return "a lone UTF-16 surrogate is not text"
    if node.tag not in _NUMBER_TAGS:
        return ""
    if len(value) > limits.max_number_chars:
        return f"number of {len(value)} characters (at most {limits.max_number_chars})"
    if node.tag.endswith("float") and not _finite(value):
        return f"number {value} is not finite"
    return ""


def _finite(token: str) -> bool:
    """Whether a YAML float token (`.inf`, `.NaN`, `1e999`, `1_0.5`, sexagesimal `1:30.5`) is finite."""
    plain = token.replace("_", "").lower()
    if plain.lstrip("+-") in (".inf", ".nan"):
        return False
    try:
        return math.isfinite(float(plain))
    except ValueError:
        return True  # sexagesimal: bounded by the token length
