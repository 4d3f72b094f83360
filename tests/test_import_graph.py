"""The import graph: no cycles anywhere in the project; the product imports no lab, bench or test
code; tests/ and bench/ share lab support through labkit/, never importing each other; tests share
fixtures through conftest and support modules, never by importing a test module."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import cycles, graph, project_modules


PRODUCT = ("components", "review", "policies", "tools", "__main__")


def _top(module: str) -> str:
    return module.split(".")[0]


def _is_test_module(module: str) -> bool:
    leaf = module.rsplit(".", 1)[-1]
    return leaf.startswith("test_") or leaf == "conftest"


def crossings(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports that break the layering: product -> labkit/bench/tests, labkit -> bench/tests,
    tests <-> bench, anything -> a test module or conftest."""
    forbidden = {top: {"labkit", "bench", "tests"} for top in PRODUCT}
    forbidden.update({"labkit": {"bench", "tests"}, "tests": {"bench"}, "bench": {"tests"}})
    return sorted(
        (source, target)
        for source, targets in edges.items()
        for target in targets
        if _top(target) in forbidden.get(_top(source), set()) or _is_test_module(target)
    )


def test_the_project_has_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_product_lab_bench_and_tests_stay_apart() -> None:
    assert crossings(graph()) == []


def test_crossings_are_found() -> None:
    edges = {
        "components.hub": {"labkit.mtls", "components.settings"},
        "review.report": {"tests.fixture_fleet"},
        "labkit.exporter": {"bench._lab"},
        "bench._lab": {"tests.lab.exporter", "labkit.exporter"},
        "tests.lab.conftest": {"bench.hub_scale", "labkit.metrics", "tests.lab.processes"},
        "tests.components.test_edge": {"tests.components.test_settings", "tests.fixture_fleet"},
        "tests.review.test_report": {"tests.conftest"},
    }
    assert crossings(edges) == [
        ("bench._lab", "tests.lab.exporter"),
        ("components.hub", "labkit.mtls"),
        ("labkit.exporter", "bench._lab"),
        ("review.report", "tests.fixture_fleet"),
        ("tests.components.test_edge", "tests.components.test_settings"),
        ("tests.lab.conftest", "bench.hub_scale"),
        ("tests.review.test_report", "tests.conftest"),
    ]


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


def test_a_literal_import_module_call_is_an_import(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "bench/run.py": "import importlib\nlab = importlib.import_module('tests.lab.helper')\nname = 'x'\nimportlib.import_module(name)\n",
        "tests/lab/helper.py": "from importlib import import_module\nimport_module('bench.run')\n",
    })
    edges = graph(root)
    assert edges["bench.run"] == {"tests.lab.helper"}
    assert crossings(edges) == [("bench.run", "tests.lab.helper"), ("tests.lab.helper", "bench.run")]


def test_every_source_file_is_in_the_graph() -> None:
    modules = project_modules()
    assert {"components.hub", "review.report", "policies.obsfleet_residency.api", "tests.conftest"} <= set(modules)
    assert not any(name.startswith("venv") for name in modules)
