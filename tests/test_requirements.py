"""Install: run-time and test packages apart, both installed from hash-pinned locks that hold
every pin of the requirement files they are compiled from (tools/lock.sh)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from review.stacks import project_root

ROOT = project_root()
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)", re.M)
TEST_ONLY = {"pytest", "botocore", "jsonschema"}


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file and the files it includes with `-r`."""
    text = path.read_text()
    found = {_name(n): v for n, v in PIN.findall(text)}
    for included in re.findall(r"^-r\s+(\S+)", text, re.M):
        found.update(pins(path.parent / included))
    return found


def lock(path: Path) -> dict[str, tuple[str, int]]:
    """Each locked package: its version and how many hashes it carries."""
    entries = re.split(r"^(?=[A-Za-z0-9])", path.read_text(), flags=re.M)
    locked = {}
    for entry in entries:
        match = PIN.match(entry)
        if match:
            locked[_name(match[1])] = (match[2], entry.count("--hash=sha256:"))
    return locked


@pytest.mark.parametrize(("source", "locked"), [("requirements.txt", "requirements.lock"),
                                                ("requirements-test.txt", "requirements-test.lock")])
def test_the_lock_holds_every_pin_with_hashes(source: str, locked: str) -> None:
    wanted, have = pins(ROOT / source), lock(ROOT / locked)
    assert {n: v for n, v in wanted.items() if have.get(n, (None,))[0] != v} == {}, f"run tools/lock.sh after editing {source}"
    assert [n for n, (_v, hashes) in have.items() if hashes == 0] == []


def test_run_time_packages_leave_the_test_ones_out() -> None:
    runtime, tests = lock(ROOT / "requirements.lock"), lock(ROOT / "requirements-test.lock")
    assert TEST_ONLY & set(pins(ROOT / "requirements.txt")) == set()
    assert TEST_ONLY & set(runtime) == set()
    assert TEST_ONLY <= set(tests)
    assert {n: v for n, (v, _h) in runtime.items() if tests.get(n, (None,))[0] != v} == {}, "one version per package"


def test_the_policy_packs_pins_are_the_projects() -> None:
    runtime = lock(ROOT / "requirements.lock")
    assert {n: v for n, v in pins(ROOT / "policies" / "requirements.txt").items() if runtime[n][0] != v} == {}


def test_installs_require_the_hashes() -> None:
    first_commands = re.search(r"^```sh\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)
    assert first_commands and "venv/bin/pip install --require-hashes -r requirements.lock" in first_commands[1]
    assert "--require-hashes -r requirements-test.lock" in (ROOT / "tests" / "run.sh").read_text()
