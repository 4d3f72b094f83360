"""`python -m review schema`: JSON Schema of `Pulumi.<stack>.yaml`, generated from the settings models.

Point an editor at it (see README) to get completion and errors while editing stack config.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from components.settings import NAMESPACE, SECRET_KEYS, EdgeSettings, HubSettings

SCHEMA_ID = "https://obsfleet.dev/schema/pulumi-stack.json"


def _role_schema(model: type, defs: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    defs.update(schema.pop("$defs", {}))
    keys = list(schema["properties"])
    properties = {f"{NAMESPACE}:{key}": value for key, value in schema["properties"].items()}
    modelled = "|".join(re.escape(k) for k in keys)
    return {
        "title": schema.get("title", model.__name__),
        "type": "object",
        "properties": properties,
        "required": [f"{NAMESPACE}:{key}" for key in schema.get("required", [])],
        "patternProperties": {
            # Other namespaces (aws:region, gcp:project, ...) are the providers' business.
            f"^(?!{NAMESPACE}:)": {},
            # Any other obsfleet key must be a secret (receiver URLs, passwords, kubeconfig).
            f"^{NAMESPACE}:(?!({modelled})$)": {"$ref": "#/$defs/Secure"},
        },
        "additionalProperties": False,
    }


def stack_file_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {
        "Secure": {
            "description": "A value set with `pulumi config set --secret` (ciphertext).",
            "type": "object",
            "properties": {"secure": {"type": "string"}},
            "required": ["secure"],
            "additionalProperties": False,
        }
    }
    roles = [_role_schema(HubSettings, defs), _role_schema(EdgeSettings, defs)]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "obsfleet Pulumi stack file",
        "description": f"Pulumi.<stack>.yaml of project obsfleet. Secret keys: {', '.join(sorted(SECRET_KEYS))} "
        "and each alerting receiver's `secret`.",
        "type": "object",
        "properties": {
            "config": {"oneOf": roles},
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
        },
        "required": ["config"],
        "$defs": defs,
    }


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
            kind = ("one of " + "|".join(map(str, node["enum"]))) if "enum" in node else node.get("type", "any")
            if "const" in node:
                kind = f"= {node['const']}"
            lines.append(f"{path}  {kind}{'  required' if required else ''}")

    lines: list[str] = []
    for role in schema["properties"]["config"]["oneOf"]:
        lines.append(f"# {role['properties'][NAMESPACE + ':role']['const']} stacks")
        needed = set(role["required"])
        for key, node in role["properties"].items():
            walk(node, key, key in needed, lines)
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=["json", "text"],
        default="json",
        help="json: the JSON Schema (for editors); text: one line per key path with its type (default: json)",
    )


def run(args: argparse.Namespace) -> int:
    schema = stack_file_schema()
    print(json.dumps(schema, indent=2, sort_keys=True) if args.format == "json" else "\n".join(key_lines(schema)))
    return 0
