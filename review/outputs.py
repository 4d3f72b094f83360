"""What a review writes: the stacks' exports, report.json/.md with its JSON Schema, and the lines
saying why it fails. The same stacks write the same bytes (timings go to progress lines only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Optional

from review import engine, report
from review.errors import BadInput
from review.report_schema import REPORT_SCHEMA


def report_name(stacks_asked: Optional[list[str]]) -> str:
    """`report` for the whole fleet, `report-<stack>[+<stack>...]` for the stacks asked for."""
    return "report" if stacks_asked is None else "report-" + "+".join(sorted(set(stacks_asked)))


def write_outputs(results: list[engine.PreviewResult], document: dict[str, Any], out: Path, name: str = "report") -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            (out / f"{result.stack}.json").write_text(json.dumps(result.export(), indent=2, sort_keys=True) + "\n")
        (out / f"{name}.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        (out / f"{name}.md").write_text(report.markdown(document))
        (out / "report.schema.json").write_text(json.dumps(REPORT_SCHEMA, indent=2, sort_keys=True) + "\n")
    except OSError as err:
        raise BadInput(f"--out {out}: {err.strerror}") from None


def error_lines(document: dict[str, Any]) -> Iterator[str]:
    """Why the review fails, printed even under --quiet (a CI log must say why it stopped): a failed
    program's error (it explains its stack), else each of the stack's mandatory violations."""
    for stack in document["stacks"]:
        if stack["status"] == "failed":
            yield stack["error"]
            continue
        for violation in stack["violations"]:
            if violation["enforcement"] == "mandatory":
                yield f"{stack['name']}: {violation['policy']}: {report.finding_detail(violation['finding'])}"
