"""README's "Adding an edge", followed literally in a copy of the project: the review, CI's deploy
matrix and the checks that read the stack files stay green."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from review.stacks import project_root

ROOT = project_root()
COPY_IGNORE = shutil.ignore_patterns("venv", ".git", "out", "__pycache__", ".pytest_cache")


def section(text: str, heading: str) -> str:
    start = text.index(heading + "\n")
    following = re.search(r"^#{2,3} ", text[start + len(heading):], re.M)
    return text[start:start + len(heading) + following.start()] if following else text[start:]


def steps(text: str) -> list[str]:
    """The numbered steps of a section, each with the code blocks that follow it."""
    return [s for s in re.split(r"^(?=\d+\. )", text, flags=re.M) if re.match(r"\d+\. ", s)]


def code_block(step: str, language: str) -> str:
    found = re.search(rf"^```{language}\n(.*?)^```", step, re.M | re.S)
    assert found, f"no ```{language} block in: {step[:60]}"
    return found[1]


def stack_file(step: str) -> str:
    found = re.search(r"`(Pulumi\.[\w.-]+\.yaml)`", step)
    assert found, f"no stack file named in: {step[:60]}"
    return found[1]


def append_to_list(path: Path, key: str, block: str) -> None:
    """Add `block` after the last line of the YAML list under `key` (a text edit, as a user makes it)."""
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{key}:")
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    for i in range(start + 1, len(lines)):
        if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= indent:
            break
        if lines[i].strip():
            end = i + 1
    path.write_text("".join(lines[:end]) + block + "".join(lines[end:]))


def review(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "review", *args], cwd=copy, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def added(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The project copied, README's steps applied; (the copy, the new edge's name)."""
    copy = tmp_path_factory.mktemp("clone") / "obsfleet"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE)
    hub_step, edge_step, review_step = steps(section((ROOT / "README.md").read_text(), "### Adding an edge"))
    append_to_list(copy / stack_file(hub_step), "obsfleet:edges", code_block(hub_step, "yaml"))
    edge_file = stack_file(edge_step)
    assert not (copy / edge_file).exists(), "the example names an edge that is new"
    (copy / edge_file).write_text(code_block(edge_step, "yaml"))
    (command,) = re.findall(r"`venv/bin/python -m review ([^`]+)`", review_step)
    done = review(copy, *command.split())
    assert done.returncode == 0, done.stdout + done.stderr
    return copy, edge_file[len("Pulumi."):-len(".yaml")]


def test_the_new_edge_previews_after_its_hub(added: tuple[Path, str]) -> None:
    copy, edge = added
    report = json.loads((copy / "out" / f"report-{edge}.json").read_text())
    # The hub signs its edges' requests: all of them run (each edge before and after its hub).
    names = [s["name"] for s in report["stacks"]]
    assert names[0] == "hub" and edge in names
    assert all(s["status"] == "ok" and s["mandatory"] == 0 for s in report["stacks"])


def test_every_stack_still_previews_clean(added: tuple[Path, str]) -> None:
    copy, edge = added
    done = review(copy, "preview", "--all", "--quiet")
    assert done.returncode == 0, done.stderr
    assert (copy / "out" / f"{edge}.json").exists()


def test_ci_deploys_the_new_edge(added: tuple[Path, str]) -> None:
    copy, edge = added
    done = review(copy, "stacks", "--role", "edge", "--format", "matrix")
    assert done.returncode == 0, done.stderr
    assert edge in [entry["stack"] for entry in json.loads(done.stdout)["include"]]


def test_the_checks_that_read_the_project_files_pass_in_the_copy(added: tuple[Path, str]) -> None:
    copy, _edge = added
    checks = ["tests/review/test_workflows.py", "tests/review/test_stacks_cmd.py", "tests/test_requirements.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *checks],
                          cwd=copy, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:]
