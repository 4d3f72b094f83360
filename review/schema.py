"""`python -m review schema`: JSON Schema of `Pulumi.<stack>.yaml`, generated from the settings models.

Point an editor at it (see README) to get completion and errors while editing stack config.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from components.settings import KUBECONFIG, NAMESPACE, PROJECT_KEYS, ROLE_DESCRIPTION, SECRETS, EdgeSettings, HubSettings, Role
from review.errors import ExitCode

SCHEMA_ID = "https://obsfleet.dev/schema/pulumi-stack.json"
ROLE_MODELS = {Role.HUB: HubSettings, Role.EDGE: EdgeSettings}
ENGINE_TEXT = {"integer": r"^[0-9]+$", "number": r"^[0-9]+(\.[0-9]+)?$"}
"""`pulumi config set obsfleet:seriesEstimate 30000` stores the string "30000"; the program decodes it."""


def _config_name(role: Role) -> str:
    return f"{role.value.capitalize()}Config"


def _engine_form(node: dict[str, Any]) -> dict[str, Any]:
    """A top-level number as YAML writes it or as `pulumi config set` stores it (a string of digits)."""
    if node.get("type") not in ENGINE_TEXT:
        return node
    typed = {k: v for k, v in node.items() if k not in ("description", "default")}
    text = {"type": "string", "pattern": ENGINE_TEXT[node["type"]]}
    wrapper = {k: node[k] for k in ("description", "default") if k in node}
    return {**wrapper, "anyOf": [typed, text]}


def _untitled(node: Any) -> Any:
    """Drop pydantic's per-field titles ("Bufferhours"): editors show the description instead."""
    if isinstance(node, dict):
        properties = node.get("properties")
        cleaned = {k: _untitled(v) for k, v in node.items() if k != "properties"}
        if isinstance(properties, dict):
            cleaned["properties"] = {
                key: {k: _untitled(v) for k, v in child.items() if k != "title"} for key, child in properties.items()
            }
        return cleaned
    if isinstance(node, list):
        return [_untitled(item) for item in node]
    return node


def _secrets(role: Role) -> dict[str, str]:
    return {f"{NAMESPACE}:{key}": text for key, (where, text) in SECRETS.items() if where in ("both", role.value)}


def _keys(role: Role) -> set[str]:
    fields = ROLE_MODELS[role].model_fields.items()
    return {f"{NAMESPACE}:{info.alias or name}" for name, info in fields} | set(_secrets(role))


def _role_schema(role: Role, defs: dict[str, Any]) -> dict[str, Any]:
    model = ROLE_MODELS[role]
    schema = _untitled(model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}"))
    defs.update(schema.pop("$defs", {}))
    properties = {f"{NAMESPACE}:{key}": _engine_form(value) for key, value in schema["properties"].items()}
    for key, text in _secrets(role).items():
        properties[key] = {"$ref": "#/$defs/Secure", "description": f"secret: {text}"}
    # Keys of either role are not secrets: the other role's keys are unexpected here, by name.
    known = sorted(set().union(*(_keys(r) for r in Role)))
    modelled = "|".join(re.escape(k.removeprefix(f"{NAMESPACE}:")) for k in known)
    return {
        "title": f"obsfleet {role.value} stack config",
        "description": schema.get("description", ""),
        "type": "object",
        "properties": properties,
        # Project keys come from Pulumi.yaml's config block: a stack file may override, need not repeat them.
        "required": [f"{NAMESPACE}:{key}" for key in schema.get("required", []) if key not in PROJECT_KEYS],
        "patternProperties": {
            # Other namespaces (aws:region, gcp:project, ...) are the providers' business.
            f"^(?!{NAMESPACE}:)": {},
            # Any other obsfleet key must be a secret (each alerting receiver's `secret` names one).
            f"^{NAMESPACE}:(?!({modelled})$)": {"$ref": "#/$defs/Secure"},
        },
        "additionalProperties": False,
        # A target cluster: `kubernetes.context`, or a secret kubeconfig (else the current context is used).
        "anyOf": [
            {"required": [f"{NAMESPACE}:kubernetes"], "properties": {f"{NAMESPACE}:kubernetes": {
                "description": "names its cluster's context", "required": ["context"]}}},
            {"required": [f"{NAMESPACE}:{KUBECONFIG}"]},
        ],
    }


def stack_file_schema() -> dict[str, Any]:
    """The schema of a stack file: `config` is checked against the schema of its `obsfleet:role`
    (if/then), so an editor marks the one key that is wrong rather than the whole mapping."""
    defs: dict[str, Any] = {
        "Secure": {
            "description": "A value set with `pulumi config set --secret` (ciphertext).",
            "type": "object",
            "properties": {"secure": {"type": "string", "description": "the ciphertext"}},
            "required": ["secure"],
            "additionalProperties": False,
        }
    }
    role_key = f"{NAMESPACE}:role"
    branches = []
    for role in Role:
        defs[_config_name(role)] = _role_schema(role, defs)
        branches.append({
            "if": {"properties": {role_key: {"const": role.value}}, "required": [role_key]},
            "then": {"$ref": f"#/$defs/{_config_name(role)}"},
        })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "obsfleet Pulumi stack file",
        "description": "Pulumi.<stack>.yaml of project obsfleet.",
        "type": "object",
        "properties": {
            "config": {
                "description": "The stack's configuration: `obsfleet:` keys by role, other namespaces for providers.",
                "type": "object",
                "properties": {role_key: {"enum": [r.value for r in Role], "description": ROLE_DESCRIPTION}},
                "required": [role_key],
                "allOf": branches,
            },
            "secretsprovider": {"type": "string", "description": "the stack's secrets provider"},
            "encryptedkey": {"type": "string", "description": "the data key, encrypted by the secrets provider"},
            "encryptionsalt": {"type": "string", "description": "salt of the passphrase secrets provider"},
            "environment": {"description": "Pulumi ESC environments the stack imports"},
        },
        "required": ["config"],
        "$defs": defs,
    }


def role_schemas(schema: dict[str, Any]) -> dict[Role, dict[str, Any]]:
    """Each role's config schema, from the stack-file schema."""
    return {role: schema["$defs"][_config_name(role)] for role in Role}


def config_table(schema: dict[str, Any]) -> list[str]:
    """README's configuration table: one row per top-level key, its role and its description."""
    roles = {role: set(node["properties"]) for role, node in role_schemas(schema).items()}
    rows = ["| key | role | meaning |", "|---|---|---|"]
    seen: set[str] = set()
    for node in role_schemas(schema).values():
        for key, child in node["properties"].items():
            if key in seen:
                continue
            seen.add(key)
            where = [role.value for role in Role if key in roles[role]]
            role = "both" if len(where) == len(Role) else where[0]
            rows.append(f"| `{key.removeprefix(NAMESPACE + ':')}` | {role} | {child['description']} |")
    return rows


def key_lines(schema: dict[str, Any]) -> list[str]:
    """One line per config key path (`obsfleet:edges[].name  string  required`), hub keys then edge keys."""
    defs = schema["$defs"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        options = [resolve(o) for o in node.get("anyOf", []) if o.get("type") != "null"]
        return options[0] if len(options) == 1 else node

    def walk(node: dict[str, Any], path: str, required: bool, lines: list[str]) -> None:
        node = resolve(node)
        if node.get("type") == "array" and resolve(node.get("items", {})).get("properties"):
            walk(node["items"], f"{path}[]", required, lines)
        elif node.get("properties"):
            needed = set(node.get("required", []))
            for key, child in node["properties"].items():
                walk(child, f"{path}.{key}", key in needed, lines)
        else:
            kind = node.get("type") or "|".join(o.get("type", "any") for o in node.get("anyOf", [])) or "any"
            kind = ("one of " + "|".join(map(str, node["enum"]))) if "enum" in node else kind
            if "const" in node:
                kind = f"= {node['const']}"
            lines.append(f"{path}  {kind}{'  required' if required else ''}")

    lines: list[str] = []
    for name, role in role_schemas(schema).items():
        lines.append(f"# {name.value} stacks")
        needed = set(role["required"])
        for key, node in role["properties"].items():
            walk(node, key, key in needed, lines)
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=["json", "text", "markdown"],
        default="json",
        help="json: the JSON Schema (for editors); text: one line per key path with its type; markdown: "
        "README's configuration table (default: json)",
    )


def run(args: argparse.Namespace) -> int:
    schema = stack_file_schema()
    if args.format == "json":
        print(json.dumps(schema, indent=2, sort_keys=True))
    else:
        print("\n".join(key_lines(schema) if args.format == "text" else config_table(schema)))
    return ExitCode.OK
