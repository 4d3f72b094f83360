"""The import graph: no cycles anywhere in the project (product, policies, tools, bench, tests)."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import cycles, graph, project_modules


def test_the_project_has_no_import_cycle() -> None:
    assert cycles(graph()) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_cycle_is_found_through_any_import_form(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n",
        "pkg/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import thing\n",
        "pkg/c.py": "def f():\n    import pkg.a\n",
        "pkg/d.py": "from pkg.a import something\n",
        "venv/lib/x.py": "import pkg.d\n",
    })
    edges = graph(root)
    assert set(edges) == {"pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"}
    assert edges["pkg.d"] == {"pkg.a"}
    assert cycles(edges) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_every_source_file_is_in_the_graph() -> None:
    modules = project_modules()
    assert {"components.hub", "review.report", "policies.obsfleet_residency.api", "tests.conftest"} <= set(modules)
    assert not any(name.startswith("venv") for name in modules)
