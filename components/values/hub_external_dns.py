"""ExternalDNS values: the hub's ingest hostnames, kept in sync from its LoadBalancer Services.

`sync` also deletes records whose Service is gone (an ingest path removed with the tier that
served it); the domain filter and the TXT owner id keep it to this hub's own names.
"""

from __future__ import annotations

from typing import Any

from components.regions import Cloud
from components.settings import HubSettings
from components.storage import SA_ANNOTATION
from components.values.hub_common import EXTERNAL_DNS

PROVIDER = {Cloud.AWS: "aws", Cloud.GCP: "google"}
SERVICE_ACCOUNT = EXTERNAL_DNS


def external_dns_values(settings: HubSettings, identity: str) -> dict[str, Any]:
    """`identity`: the IAM role ARN (IRSA) or Google service account email allowed to edit DNS."""
    values: dict[str, Any] = {
        "fullnameOverride": EXTERNAL_DNS,
        "provider": {"name": PROVIDER[settings.cloud]},
        "policy": "sync",
        "domainFilters": [settings.domain],
        "txtOwnerId": settings.cluster,
        "sources": ["service"],
        "serviceAccount": {
            "create": True,
            "name": SERVICE_ACCOUNT,
            "annotations": {SA_ANNOTATION[settings.cloud]: identity},
        },
    }
    if settings.cloud is Cloud.GCP:
        values["extraArgs"] = [f"--google-project={settings.project}"]
    return values
