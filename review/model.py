"""What the review's parts share: one stack's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from review.stacks import StackConfig


@dataclass
class StackOutcome:
    """One stack of the review: what it declared, what the pack found, and how its program ended."""

    config: StackConfig
    resources: list[dict[str, Any]] = field(default_factory=list)
    """Export records (secrets masked); for a failed program, what it declared before failing."""
    violations: list[Any] = field(default_factory=list)
    """The pack's findings: objects with policy, urn, enforcement, message."""
    error: Optional[str] = None
    previewed: bool = True
    """False when the stack was not run (its hub failed, so its StackReference has nothing to read)."""
    policies: dict[str, str] = field(default_factory=dict)
    """The policies that judged it: name -> enforcement level."""
    waiting: Optional[str] = None
    """For an edge its hub has no certificate for: what it waits for (it declared only its identity)."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def status(self) -> str:
        if not self.previewed:
            return "skipped"
        if self.error:
            return "failed"
        return "waiting" if self.waiting else "ok"
