"""Lab fixtures: every Prometheus a test starts is stopped by its fixture's finalizer, and a failing
test gets the tail of every process log attached to its report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

import pytest

from review import engine, mock_tls
from tests import fixture_fleet
from tests.lab.processes import LOG_TAIL_LINES, Launcher, launching


@pytest.fixture(scope="session")
def fleet() -> dict[str, engine.PreviewResult]:
    """The fixture fleet with certificates that start now: real TLS peers check them against the
    wall clock, not the review's fixed mock moment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mock_tls, "START", dt.datetime.now(dt.timezone.utc))
        return fixture_fleet.preview()


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
