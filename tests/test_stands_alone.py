"""The repository stands alone: no file points outside it, and the documents README links exist."""

from __future__ import annotations

import re
from pathlib import Path

from review.stacks import project_root

ROOT = project_root()
SKIP_DIRS = {".git", "venv", "out", "__pycache__", ".pytest_cache"}
OUTSIDE = re.compile(r"\.\./shared\b|\bshared/(?:DESIGN\.md|reference|seed)\b")


def project_files() -> list[Path]:
    return [p for p in ROOT.rglob("*") if p.is_file() and not SKIP_DIRS & set(p.relative_to(ROOT).parts)]


def test_no_file_refers_to_a_sibling_folder() -> None:
    offenders = []
    for path in project_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        offenders += [f"{path.relative_to(ROOT)}: {m[0]}" for m in OUTSIDE.finditer(text)]
    assert offenders == []


def test_every_document_readme_links_exists() -> None:
    links = re.findall(r"\]\(([^)#:]+)\)", (ROOT / "README.md").read_text())
    assert {"docs/design.md", "docs/deployments.md"} <= set(links)
    assert [link for link in links if not (ROOT / link).exists()] == []
