"""The stack files on disk (the project's, or `--stacks-dir`): `Pulumi.<stack>.yaml` read the way the
Pulumi CLI reads them, over the project-level config of `Pulumi.yaml` (where `obsfleet:org` is set
once for every stack)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode

from components import edge_facts
from components import settings as config
from components.settings import ConfigError, EdgeSettings, HubSettings, Settings
from review import safe_load
from review.errors import BadInput

PROJECT = "obsfleet"
# Secrets are never in the example files; offline, the program gets clearly fake stand-ins.
FAKE_SECRET = "offline-review-fake-{key}"


@dataclass(frozen=True)
class StackConfig:
    name: str
    path: Path
    settings: Settings
    engine_config: dict[str, str]
    """`project:key` -> string, as the engine hands config to the program (objects as JSON)."""
    secret_keys: frozenset[str]

    @property
    def is_hub(self) -> bool:
        return not isinstance(self.settings, EdgeSettings)

    @property
    def hub(self) -> str | None:
        """The stack this edge ships to (its short name in this project)."""
        if isinstance(self.settings, EdgeSettings):
            return self.settings.hub_stack
        return None

    @property
    def edges(self) -> list[str]:
        """The stacks of the edges this hub signs for (short names)."""
        if isinstance(self.settings, HubSettings):
            return [e.stack_name for e in self.settings.edges]
        return []


class DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first: int):
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


class _UniqueKeyLoader(safe_load.SafeYamlLoader):
    """YAML as the Pulumi CLI reads a stack file: a key twice in one mapping is an error, not the last value."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, Any], int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if not isinstance(key, (str, int, float, bool)):
                continue
            typed, line = (type(key).__name__, key), key_node.start_mark.line + 1  # `1` and `true` differ in YAML
            if typed in seen:
                raise DuplicateKey(key, line, seen[typed])
            seen[typed] = line
        return super().construct_mapping(node, deep)


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def stack_names(root: Path | None = None) -> list[str]:
    root = root or project_root()
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def project_config(root: Path | None = None) -> dict[str, Any]:
    """`Pulumi.yaml`'s `config:` block as stack-file values: every stack's defaults. A project key
    may be bare (`org`, in the project's namespace) and holds a value or a `default`/`value` schema."""
    root = root or project_root()
    path = root / "Pulumi.yaml"
    if not path.is_file():
        path = project_root() / "Pulumi.yaml"
    document = safe_load.load_yaml(path, safe_load.STACK_FILE, label=path.name) or {}
    block = document.get("config") if isinstance(document, dict) else None
    block = block or {}
    if not isinstance(block, dict):
        raise BadInput(f"{path.name}: `config:` is not a mapping")
    values: dict[str, Any] = {}
    for key, entry in block.items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(entry, dict) and ({"value", "default"} & set(entry)):
            values[full] = entry.get("value", entry.get("default"))
        elif not isinstance(entry, dict):
            values[full] = entry
    return values


def load(name: str, root: Path | None = None) -> StackConfig:
    """Read and validate `Pulumi.<name>.yaml`; any problem is BadInput naming the file and key."""
    root = root or project_root()
    path = root / f"Pulumi.{name}.yaml"
    if not path.exists():
        known = ", ".join(stack_names(root)) or "none"
        raise BadInput(f"unknown stack '{name}' (no {path.name}; stacks: {known})")
    try:
        document = safe_load.load_yaml(path, safe_load.STACK_FILE, loader=_UniqueKeyLoader, label=path.name) or {}
    except DuplicateKey as err:
        raise BadInput(f"{path.name}: line {err.line}: duplicate key '{err.key}' (first at line {err.first}); "
                       "keep one") from None
    values = document.get("config") if isinstance(document, dict) else None
    if not isinstance(values, dict):
        raise BadInput(f"{path.name}: no `config:` mapping")
    return from_values(name, path, {**project_config(root), **values})


def from_values(name: str, path: Path, values: dict[str, Any]) -> StackConfig:
    """A stack from its file's `config:` mapping (`path` names it in errors); required secrets the
    file lacks get fake values (the review never sends them anywhere)."""
    engine_config, secret_keys = engine_view(values)
    try:
        settings = config.from_engine(engine_config, secret_keys)
    except ConfigError as err:
        raise BadInput(f"{path.name}: " + "; ".join(str(err).splitlines())) from None
    for key in config.required_secrets(settings):
        full = f"{PROJECT}:{key}"
        if full not in engine_config:
            engine_config[full] = FAKE_SECRET.format(key=key)
            secret_keys |= {full}
    return StackConfig(name, path, settings, engine_config, frozenset(secret_keys))


def engine_view(values: dict[str, Any]) -> tuple[dict[str, str], frozenset[str]]:
    """Config as the engine passes it: scalars as strings, objects as JSON; `secure:` values secret."""
    engine: dict[str, str] = {}
    secret: set[str] = set()
    for key, value in values.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Ciphertext only the stack's secrets provider can read: stand in a fake, keep it secret.
            engine[key] = FAKE_SECRET.format(key=key.split(":", 1)[-1])
            secret.add(key)
        elif isinstance(value, (dict, list)):
            engine[key] = json.dumps(value)
        elif isinstance(value, bool):
            engine[key] = "true" if value else "false"
        else:
            engine[key] = "" if value is None else str(value)
    return engine, frozenset(secret)


def check_facts(edge: StackConfig, hub: StackConfig | None) -> None:
    """Refuse an edge whose sizing and replay facts differ from its hub's `edges` entry (both files
    named). An edge of another regime's hub is left to the program, which refuses it, and to the
    pack, which flags the flow."""
    if hub is None or not isinstance(edge.settings, EdgeSettings) or not isinstance(hub.settings, HubSettings):
        return
    if edge.settings.regime is not hub.settings.regime:
        return
    problem = edge_facts.drift(edge.settings, edge_facts.hub_entries(hub.settings), hub.name)
    if problem:
        raise BadInput(f"{edge.path.name}: {problem}")


def ordered(names: list[str], root: Path | None = None) -> list[StackConfig]:
    """The stacks to preview for `names` and every stack they reference (an edge's hub, a hub's
    edges), each once: hubs first, then edges."""
    result: dict[str, StackConfig] = {}
    pending: list[tuple[str, str | None]] = [(name, None) for name in names]
    while pending:
        name, wanted_by = pending.pop(0)
        if name in result:
            continue
        try:
            stack = load(name, root)
        except BadInput as err:
            if wanted_by is None:
                raise
            raise BadInput(f"Pulumi.{wanted_by}: {err}") from None
        result[name] = stack
        if stack.hub:
            pending.append((stack.hub, f"{name}.yaml: obsfleet:hubStack"))
        pending += [(edge, f"{name}.yaml: obsfleet:edges") for edge in stack.edges]
    for stack in result.values():
        check_facts(stack, result.get(stack.hub or ""))
    hubs = [s for s in result.values() if s.is_hub]
    return hubs + [s for s in result.values() if not s.is_hub]
