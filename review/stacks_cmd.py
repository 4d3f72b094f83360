"""`python -m review stacks`: the stacks the Pulumi.<stack>.yaml files define, hubs first.

What lists the fleet elsewhere comes from here, so a new stack file is the whole change: the
deploy workflow's matrices (`--format matrix`, read with `fromJSON`) and the table people read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Optional

from review import stacks
from review.errors import ExitCode
from review.stacks import StackConfig

FORMATS = ("table", "json", "matrix")
ROLES = ("hub", "edge")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stacks-dir", type=Path, default=None, metavar="DIR",
                        help="directory holding the Pulumi.<stack>.yaml files (default: the project root)")
    parser.add_argument("--role", choices=ROLES, help="only hubs or only edges (default: both)")
    parser.add_argument(
        "--format", choices=FORMATS, default="table",
        help="table: Markdown for people; json: an array of {stack, role, cloud, region, regime, hub}; "
        "matrix: one line {\"include\": [{stack, stack-name, cloud, region, aws-role}]} for a GitHub "
        "Actions matrix, stack-name being <org>/obsfleet/<stack> (obsfleet:org, set once in Pulumi.yaml), "
        "aws-role naming the regime's deploy-role variable (default: table)",
    )


def listed(stacks_dir: Optional[Path], role: Optional[str]) -> list[StackConfig]:
    """Every stack, validated, hubs first (each group by name)."""
    loaded = [stacks.load(name, stacks_dir) for name in stacks.stack_names(stacks_dir)]
    ordered = [s for s in loaded if s.is_hub] + [s for s in loaded if not s.is_hub]
    return [s for s in ordered if role is None or s.settings.role.value == role]


def row(stack: StackConfig) -> dict[str, Any]:
    settings = stack.settings
    return {
        "stack": stack.name,
        "role": settings.role.value,
        "cloud": settings.cloud.value,
        "region": settings.region,
        "regime": settings.regime.value,
        "hub": stack.hub,
    }


def matrix_entry(stack: StackConfig) -> dict[str, str]:
    settings = stack.settings
    entry = {
        "stack": stack.name, "stack-name": settings.stack_ref(stack.name), "cloud": settings.cloud.value,
        "region": settings.region,
    }
    if settings.cloud.value == "aws":  # one deploy role per regime
        entry["aws-role"] = f"AWS_DEPLOY_ROLE_{settings.regime.value.upper()}"
    return entry


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| stack | role | cloud / region | regime | ships to |", "|---|---|---|---|---|"]
    for r in rows:
        hub = f"`{r['hub']}`" if r["hub"] else ""
        lines.append(f"| `{r['stack']}` | {r['role']} | {r['cloud']} {r['region']} | {r['regime']} | {hub} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    chosen = listed(args.stacks_dir, args.role)
    if args.format == "matrix":
        print(json.dumps({"include": [matrix_entry(s) for s in chosen]}, separators=(",", ":")))
    elif args.format == "json":
        print(json.dumps([row(s) for s in chosen], indent=2))
    else:
        print(table([row(s) for s in chosen]))
    return ExitCode.OK
