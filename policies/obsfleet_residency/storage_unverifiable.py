"""storage-unverifiable (advisory): bucket controls the storage policies could not check yet."""

from __future__ import annotations

from . import (
    storage_access_logging,
    storage_encryption_at_rest,
    storage_public_access_blocked,
    storage_retention_lifecycle,
    storage_tls_only,
)
from ._policy import unverifiable_policy

NAME = "storage-unverifiable"

POLICY = unverifiable_policy(
    NAME,
    "Bucket controls the storage policies cannot verify because a deciding value (a bucket policy document, "
    "a setting) is unknown during preview or secret.",
    [
        storage_encryption_at_rest.check,
        storage_public_access_blocked.check,
        storage_tls_only.check,
        storage_retention_lifecycle.check,
        storage_access_logging.check,
    ],
)
