"""An init container that frees the agent's WAL volume when it is too full for the agent to start.

On a full volume the agent keeps running but stores nothing: every scrape fails to commit
(`prometheus_tsdb_wal_writes_failed_total`) and every truncation, which starts by closing the
segment being written, fails too, so nothing frees the volume. A restart then cannot open the WAL:
replay finds the torn page the last failed write left, and the repair rewrites that segment,
which needs the space the volume lacks. Every restart fails the same way: a crash loop.

Before the agent starts, this container compares the volume's free space with what a restart
needs (a segment, which a repair rewrites: the largest, plus the first page of the new segment);
short of it, it deletes the WAL and the agent starts on an empty one. That drops no sample a
restart would have sent: the agent's remote-write reader starts at the process's start time and
skips every older sample in the WAL (Prometheus 2.42 through 3.x), so a restart loses whatever
was unsent, whether the WAL is kept or not. Below that threshold nothing is touched.
"""

from __future__ import annotations

from typing import Any

IMAGE = "docker.io/library/busybox:1.36.1"
"""A shell, `df`, `du` and `rm`: the agent's own image (distroless from Prometheus 3) has none."""
NAME = "wal-guard"
WAL_PAGE_KIB = 32
"""Prometheus' WAL page: the first write of the segment a starting agent opens."""

SCRIPT = f"""set -eu
storage="$1"
wal="$storage/wal"
[ -d "$wal" ] || exit 0
largest=0
for segment in "$wal"/*; do
  case "${{segment##*/}}" in *[!0-9]*) continue ;; esac
  size=$(du -k "$segment" | cut -f1)
  if [ "$size" -gt "$largest" ]; then largest=$size; fi
done
need=$((largest + {WAL_PAGE_KIB}))
free=$(df -Pk "$storage" | awk 'NR == 2 {{print $4}}')
if [ "$free" -lt "$need" ]; then
  echo "{NAME}: $free KiB free, the agent needs $need KiB to open its WAL: deleting $wal"
  rm -rf "$wal"
else
  echo "{NAME}: $free KiB free, the agent needs $need KiB to open its WAL: kept"
fi
"""
"""POSIX shell; its one argument is the agent's storage directory (`--storage.agent.path`)."""


def command(storage_dir: str) -> list[str]:
    return ["sh", "-c", SCRIPT, NAME, storage_dir]


def init_container(volume: str, storage_dir: str, sub_path: str) -> dict[str, Any]:
    """A Kubernetes container mounting the agent's WAL volume as the agent does."""
    return {
        "name": NAME,
        "image": IMAGE,
        "command": command(storage_dir),
        "volumeMounts": [{"name": volume, "mountPath": storage_dir, "subPath": sub_path}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "16Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
