"""Components take everything through their Args: only the program's entry (fleet.py) and the
settings models read stack config."""

from __future__ import annotations

import ast
from pathlib import Path

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
READERS = {"settings.py", "fleet.py"}


def config_reads(path: Path) -> list[int]:
    """Lines of `pulumi.Config(...)` (or a bare `Config(...)` imported from pulumi) in `path`."""
    tree = ast.parse(path.read_text(), str(path))
    bare = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and node.module == "pulumi" for alias in node.names if alias.name == "Config"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "Config" and isinstance(func.value, ast.Name)
                    and func.value.id == "pulumi") or (isinstance(func, ast.Name) and func.id in bare):
                lines.append(node.lineno)
    return lines


def test_only_settings_and_fleet_read_stack_config() -> None:
    found = {str(p.relative_to(COMPONENTS)): config_reads(p) for p in sorted(COMPONENTS.rglob("*.py"))}
    assert {name for name, lines in found.items() if lines} <= READERS
    assert found["fleet.py"], "the program reads its secrets in fleet.py and hands them to the components"


def test_a_config_read_is_found_in_either_form(tmp_path: Path) -> None:
    source = tmp_path / "c.py"
    source.write_text("import pulumi\nfrom pulumi import Config as C\nx = pulumi.Config('a')\ny = C('b')\nz = pulumi.Output\n")
    assert config_reads(source) == [3, 4]
