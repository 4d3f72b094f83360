"""Object storage for the hub's telemetry: the TempoS3Backend component and the Helm fragments
that point charts at it.

backend.py is the component (validation, one half per cloud); s3.py and gcs.py declare each
cloud's resources; identity.py is how pods act as a cloud identity without a key; fragments.py
the chart values; model.py the Args and what the halves share.
"""

from components.storage.backend import TYPE, TempoS3Backend
from components.storage.fragments import (
    ObjectStore,
    loki_storage_values,
    s3_endpoint,
    service_account_values,
    tempo_storage_values,
)
from components.storage.identity import SA_ANNOTATION, gcp_account_id, irsa_trust
from components.storage.model import ACCESS_LOG_RETENTION_DAYS, Purpose, TempoS3BackendArgs

__all__ = [
    "ACCESS_LOG_RETENTION_DAYS",
    "SA_ANNOTATION",
    "TYPE",
    "ObjectStore",
    "Purpose",
    "TempoS3Backend",
    "TempoS3BackendArgs",
    "gcp_account_id",
    "irsa_trust",
    "loki_storage_values",
    "s3_endpoint",
    "service_account_values",
    "tempo_storage_values",
]
