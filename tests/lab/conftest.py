"""Lab fixtures: every Prometheus a test starts is stopped by its fixture's finalizer, and a failing
test gets the tail of every process log attached to its report."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.lab.processes import LOG_TAIL_LINES, Launcher, launching


@pytest.fixture(scope="module")
def module_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """For processes shared by a module's tests (e.g. the hub)."""
    yield from launching(tmp_path_factory.mktemp("lab"))


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    """For processes of one test (e.g. an agent)."""
    yield from launching(tmp_path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for process in Launcher.launched:
            tail = "\n".join(process.log().splitlines()[-LOG_TAIL_LINES:])
            report.sections.append((f"{process.name} log ({process.log_path})", tail))
