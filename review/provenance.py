"""Where a review comes from: when it ran, the project commit, the policy pack's version.

Only `generatedAt` changes between two runs over the same tree: the commit is git's HEAD, and the
pack version is PulumiPolicy.yaml's `version` with a digest of the pack's source, so two packs
that differ never share a version string.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import yaml

from review.analyzer import PACK_DIR

DIGEST_CHARS = 12


@dataclass(frozen=True)
class Provenance:
    generated_at: Optional[str] = None
    """UTC, ISO 8601 to the second (`2026-12-07T16:30:00Z`)."""
    commit: Optional[str] = None
    """HEAD of the project's git repository, `+dirty` when the tree has uncommitted changes; None outside git."""
    pack_version: Optional[str] = None


def commit(root: Path) -> Optional[str]:
    def git(*args: str) -> Optional[str]:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    if head is None:
        return None
    changed = git("status", "--porcelain", "--untracked-files=no")
    return head + ("+dirty" if changed else "")


def pack_version(pack_dir: Path = PACK_DIR) -> str:
    """`<PulumiPolicy.yaml version>+<digest of the pack's *.py and PulumiPolicy.yaml>`."""
    manifest = pack_dir / "PulumiPolicy.yaml"
    version = str((yaml.safe_load(manifest.read_text()) or {}).get("version") or "0")
    digest = hashlib.sha256()
    for path in sorted([manifest, *pack_dir.rglob("*.py")]):
        digest.update(str(path.relative_to(pack_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{version}+{digest.hexdigest()[:DIGEST_CHARS]}"


def collect(root: Path) -> Provenance:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Provenance(now, commit(root), pack_version())
