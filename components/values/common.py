"""What the edge's and the hub's charts share: the tenant header and how a TLS Secret is mounted."""

from __future__ import annotations

from typing import Any

TENANT_HEADER = "X-Scope-OrgID"
"""Mimir, Tempo and Loki take the tenant from this header; a single Prometheus ignores it."""
SECRET_MODE = 0o440
"""Owner and group (the pod's fsGroup) may read the key; nobody else."""


def secret_volume(name: str, secret: str) -> dict[str, Any]:
    return {"name": name, "secret": {"secretName": secret, "defaultMode": SECRET_MODE}}


def tls_mount(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "mountPath": path, "readOnly": True}
