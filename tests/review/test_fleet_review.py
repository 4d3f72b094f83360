"""The pack's verdict per stack: a failed program's partial stack keeps only what a part proves."""

from __future__ import annotations

from typing import Any

from review.analyzer import Violation
from review.fleet_review import _judge
from review.model import StackOutcome
from tests import fixture_fleet

BUCKET = "urn:pulumi:hub::obsfleet::aws:s3/bucket:Bucket::logs"
ALONE = Violation("storage-public-access-blocked", BUCKET, "mandatory", "a public ACL")
LACKING = Violation("storage-tls-only", BUCKET, "mandatory", "no TLS-only bucket policy")
FLOW = Violation("data-residency-flow", "", "mandatory", "ships to another jurisdiction")


class Pack:
    """The pack's answers: Analyze finds ALONE; the stack's analysis finds LACKING and FLOW."""

    def run(self, resources: Any, config: Any, stack: str, *, stack_findings: Any = None) -> list[Violation]:
        return [ALONE] + [v for v in (LACKING, FLOW) if stack_findings is None or stack_findings(v)]


def outcome(error: str | None) -> StackOutcome:
    return StackOutcome(fixture_fleet.load("hub"), [], error=error)


def test_a_previewed_stack_gets_the_whole_stack_verdict() -> None:
    assert _judge(Pack(), outcome(None), {}) == [ALONE, LACKING, FLOW]  # type: ignore[arg-type]


def test_a_failed_program_is_not_blamed_for_what_it_did_not_get_to_declare() -> None:
    assert _judge(Pack(), outcome("refused"), {}) == [ALONE, FLOW]  # type: ignore[arg-type]
