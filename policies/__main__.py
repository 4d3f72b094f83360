"""The `obsfleet-residency` policy pack: `pulumi preview --policy-pack policies` from the project root."""

import sys
from pathlib import Path

# The engine runs this directory as a script with cwd = policies/, so only policies/ is on sys.path.
# The pack imports itself as the `policies` package and the region catalog as `components.regions`
# (the program's one catalog): both live in the project root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack  # noqa: E402

from policies import (  # noqa: E402
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

_gc.collect_rarely()
PolicyPack(
    "obsfleet-residency",
    policies=[
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
    ],
)
