"""`python -m review audit EXPORT.json [--policy-config FILE] [--format json|text]`.

Runs the policy pack over an existing stack's state (`pulumi stack export`, version 3) through
the same gRPC Analyzer protocol `pulumi preview --policy-pack policies` uses: each resource's
inputs to Analyze, every resource's outputs to AnalyzeStack. Secret values are judged unknown
(the export holds only their ciphertext). Exit 0 clean, 1 on a mandatory violation, 2 on bad input.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any, Mapping

from review import safe_load
from review.analyzer import PackProcess, Violation
from review.errors import BadInput, ExitCode

EXPORT_VERSION = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", type=Path, metavar="EXPORT.json", help="output of `pulumi stack export`")
    parser.add_argument("--policy-config", type=Path, metavar="FILE",
                        help="JSON or YAML: policy name -> enforcement level or {enforcementLevel?, settings...}, "
                             "as for `pulumi policy enable --config`; `all` applies to every policy")
    parser.add_argument("--format", choices=("json", "text"), default="json")


def run(args: argparse.Namespace) -> int:
    resources = load_export(args.export)
    config = load_policy_config(args.policy_config) if args.policy_config else None
    project, stack = stack_identity(resources)
    with PackProcess(project=project, stack=stack, dry_run=False) as pack:
        violations = pack.run(resources, config)
        policies = dict(pack.policies_run)
    judged = Judged(project, stack, sum(1 for r in resources if not r.get("delete")), policies)
    print(render_json(violations) if args.format == "json" else render_text(violations, judged))
    return ExitCode.VIOLATION if any(v.enforcement == "mandatory" for v in violations) else ExitCode.OK


def load_export(path: Path) -> list[dict]:
    """`deployment.resources` of a version-3 stack export, read within safe_load.EXPORT's bounds
    and shape-checked (BadInput otherwise)."""
    document = safe_load.load_json(path, safe_load.EXPORT)
    if not isinstance(document, dict) or not isinstance(document.get("deployment"), dict):
        raise BadInput(f"{path}: not a `pulumi stack export` document (no `deployment` object)")
    if document.get("version") != EXPORT_VERSION:
        raise BadInput(f"{path}: stack export version {document.get('version')!r} is not supported (expected {EXPORT_VERSION})")
    resources = document["deployment"].get("resources")
    resources = [] if resources is None else resources  # an empty stack has none
    if not isinstance(resources, list):
        raise BadInput(f"{path}: deployment.resources is not a list")
    for index, resource in enumerate(resources):
        problem = _shape_problem(resource)
        if problem:
            raise BadInput(f"{path}: deployment.resources[{index}]: {problem}")
    return resources


_FIELD_TYPES: dict[str, type] = {
    "inputs": dict, "outputs": dict, "provider": str, "parent": str, "dependencies": list, "propertyDependencies": dict,
}


def _shape_problem(resource: Any) -> str:
    if not isinstance(resource, dict):
        return "not an object"
    for key in ("urn", "type"):
        if not isinstance(resource.get(key), str) or not resource[key]:
            return f"`{key}` is not a non-empty string"
    for key, kind in _FIELD_TYPES.items():
        if resource.get(key) is not None and not isinstance(resource[key], kind):
            return f"`{key}` is not a {kind.__name__}"
    # The engine writes `null` for a property without dependencies (and may for `dependencies`).
    dependencies = [resource.get("dependencies"), *(resource.get("propertyDependencies") or {}).values()]
    if not all(urns is None or (isinstance(urns, list) and all(isinstance(u, str) for u in urns)) for urns in dependencies):
        return "dependencies must be lists of URNs (or null)"
    return ""


def load_policy_config(path: Path) -> Mapping[str, Any]:
    config = safe_load.load_yaml(path, safe_load.POLICY_CONFIG)  # YAML is a superset of JSON
    if not isinstance(config, dict):
        raise BadInput(f"{path}: policy config must be a mapping of policy name -> level or settings")
    return config


def stack_identity(resources: list[dict]) -> tuple[str, str]:
    """(project, stack) from the URNs: urn:pulumi:<stack>::<project>::<type>::<name>."""
    for resource in resources:
        parts = resource["urn"].split("::")
        if len(parts) >= 4 and parts[0].startswith("urn:pulumi:"):
            return parts[1], parts[0].removeprefix("urn:pulumi:")
    return "unknown", "unknown"


def render_json(violations: list[Violation]) -> str:
    return json.dumps({"violations": [
        {"policy": v.policy, "urn": v.urn, "enforcement": v.enforcement, "message": v.message} for v in violations
    ]}, indent=2)


@dataclass(frozen=True)
class Judged:
    """What an audit judged: the stack, how many resources, with which policies (name -> level)."""

    project: str
    stack: str
    resources: int
    policies: dict[str, str]

    def line(self) -> str:
        levels = Counter(self.policies.values())
        by_level = ", ".join(f"{n} {level}" for level, n in sorted(levels.items()))
        return (f"audit of stack {self.stack} (project {self.project}): {self.resources} resources judged by "
                f"{len(self.policies)} policies ({by_level})")


def render_text(violations: list[Violation], judged: Judged) -> str:
    lines = [judged.line()]
    for v in violations:
        lines.append(f"[{v.enforcement}] {v.policy}  {v.urn or '(stack)'}")
        lines += [f"    {line}" for line in v.message.splitlines()]
    mandatory = sum(v.enforcement == "mandatory" for v in violations)
    lines.append(f"{len(violations)} violation(s), {mandatory} mandatory")
    return "\n".join(lines)
