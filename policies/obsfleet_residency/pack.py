"""Assembles the `obsfleet-residency` policy pack and serves it to the engine."""

from __future__ import annotations

from pulumi_policy import PolicyPack

from . import (
    _gc,
    data_residency_flow,
    data_residency_region,
    data_residency_replication,
    data_residency_unverifiable,
    storage_access_logging,
    storage_encryption_at_rest,
    storage_public_access_blocked,
    storage_retention_lifecycle,
    storage_tls_only,
    storage_unverifiable,
)

NAME = "obsfleet-residency"
POLICIES = [
    data_residency_region.POLICY,
    data_residency_replication.POLICY,
    data_residency_flow.POLICY,
    data_residency_unverifiable.POLICY,
    storage_encryption_at_rest.POLICY,
    storage_public_access_blocked.POLICY,
    storage_tls_only.POLICY,
    storage_retention_lifecycle.POLICY,
    storage_access_logging.POLICY,
    storage_unverifiable.POLICY,
]


def serve() -> None:
    """Serve the pack over the Analyzer protocol (blocks until the engine stops it)."""
    _gc.collect_rarely()
    PolicyPack(NAME, policies=POLICIES)
