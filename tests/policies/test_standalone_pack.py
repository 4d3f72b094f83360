"""The pack runs alone, as `pulumi policy publish` ships it: `policies/` copied to an empty
directory, started the way the engine starts it, judges the fixture fleet exactly as in place."""

from __future__ import annotations

import ast
import copy
import shutil
from pathlib import Path

import pytest

from review import engine
from review.analyzer import PACK_DIR, PackProcess, Violation
from review.fleet_review import policy_config
from tests import fixture_fleet
from tools import gen_policy_regions


def test_the_packs_region_catalog_is_generated_from_the_programs() -> None:
    assert gen_policy_regions.TARGET.read_text() == gen_policy_regions.generated()
    assert gen_policy_regions.main(["--check"]) == 0


def test_a_stale_region_copy_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "_regions.py"
    stale.write_text(gen_policy_regions.generated().replace('"eu-central-1"', '"eu-central-9"', 1))
    monkeypatch.setattr(gen_policy_regions, "TARGET", stale)
    monkeypatch.setattr(gen_policy_regions, "ROOT", tmp_path)
    assert gen_policy_regions.main(["--check"]) == 1
    assert gen_policy_regions.main([]) == 0 and stale.read_text() == gen_policy_regions.generated()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    found |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
    return found


def test_the_pack_imports_nothing_of_the_project() -> None:
    sources = list(PACK_DIR.rglob("*.py"))
    assert sources
    for source in sources:
        assert not _imports(source) & {"components", "review", "tests", "tools", "policies"}, source
        assert "sys.path" not in source.read_text(), source


def _verdicts(violations: list[Violation]) -> list[tuple[str, str, str, str]]:
    return sorted((v.policy, v.urn, v.enforcement, v.message) for v in violations)


def _with_a_stray_bucket(resources: list[dict]) -> list[dict]:
    """The stack with one of its buckets moved to a region no regime of the fleet allows ([] for
    a stack without buckets)."""
    changed = copy.deepcopy(resources)
    bucket = next((r for r in changed if r["type"] in ("aws:s3/bucket:Bucket", "gcp:storage/bucket:Bucket")), None)
    if bucket is None:
        return []
    key = "region" if bucket["type"].startswith("aws:") else "location"
    bucket["inputs"][key] = bucket["outputs"][key] = "sa-east-1" if key == "region" else "SOUTHAMERICA-EAST1"
    return changed


def test_the_pack_copied_alone_judges_the_fleet_as_in_place(
    fleet: dict[str, engine.PreviewResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = tmp_path / "published"
    shutil.copytree(PACK_DIR, alone, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    with PackProcess(project="obsfleet", stack="hub", pack_dir=alone) as copied, \
            PackProcess(project="obsfleet", stack="hub", pack_dir=PACK_DIR) as in_place:
        assert copied.info == in_place.info
        strays = 0
        for name, result in fleet.items():
            config = policy_config(fixture_fleet.load(name))
            stray = _with_a_stray_bucket(result.resources)
            for resources, configured in ((result.resources, config), (stray, None)):
                if not resources:
                    continue
                expected = _verdicts(in_place.run(resources, configured, stack=name))
                assert _verdicts(copied.run(resources, configured, stack=name)) == expected, name
                if configured is None:
                    strays += 1
                    assert any(v[0] == "data-residency-region" for v in expected), name
        assert strays >= 2  # an AWS and a GCP hub
