"""Grafana values: a datasource per edge tenant and signal, plus a fleet-wide view.

Tenancy is the `X-Scope-OrgID` header (Grafana keeps header values in secureJsonData). Metrics in
the Prometheus tier have no tenancy: one Prometheus holds every edge's series, told apart only by
their `cluster` label, and a datasource cannot enforce a label. So that tier has one fleet
metrics datasource (query with `{cluster="edge-eu"}`); per-edge isolation of metrics is what the
Mimir tier adds. Traces and logs are per tenant in both tiers; the fleet view queries every edge
tenant at once (`edge-a|edge-b`).

Every backend serves queries on its plain in-cluster port, which admits Grafana
(components/values/hub_front_door.py); edges never reach a query path.

Replicas (components/hub_availability.py) share no database: every pod provisions the same
datasources from these values and the admin from its Secret, and keeps nothing else that matters
(alerting is Prometheus' and Alertmanager's, not Grafana's). What a pod's own SQLite does hold is
login sessions and anything made by hand in the UI; the Service pins a client to one pod so its
session holds, and UI-made dashboards stay on the pod they were made on: provision dashboards, or
point `grafana.ini` `database` at a shared PostgreSQL to keep UI changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Optional

from components.hub_availability import Component
from components.hub_plan import HubPlan
from components.values.common import TENANT_HEADER
from components.values.hub_common import placed, tenant_list

ADMIN_USER_KEY = "admin-user"
ADMIN_PASSWORD_KEY = "admin-password"
UID_MAX = 40
"""Grafana's limit on datasource uids."""
UID_HASH = 12
"""Hex digits of the name's hash in a shortened uid: 48 bits, no collision among a fleet's edges."""


@dataclass(frozen=True)
class DatasourceUrls:
    metrics: str
    traces: str
    logs: str


FLEET = "fleet"


def uid(kind: str, tenant: Optional[str]) -> str:
    """A datasource uid in Grafana's charset ([a-zA-Z0-9-_]) and length, fixed for the datasource's life.

    The fleet view is `fleet-<kind>` whatever the edge list holds, so onboarding an edge keeps every
    dashboard's reference. An edge's is `<kind>-<edge>`; a name too long for that becomes
    `<kind>_<name prefix>_<hash>`: edge names are DNS labels (no `_`), so a hashed uid never equals
    a plain one, and neither starts with `fleet-` (no kind is `fleet`).
    """
    if tenant is None:
        return f"{FLEET}-{kind}"
    plain = f"{kind}-{tenant}"
    if len(plain) <= UID_MAX:
        return plain
    digest = hashlib.sha256(tenant.encode()).hexdigest()[:UID_HASH]
    return f"{kind}_{tenant[:UID_MAX - len(kind) - UID_HASH - 2]}_{digest}"


def _datasource(name: str, uid_: str, type_: str, url: str, tenant: Optional[str], **json_data: Any) -> dict[str, Any]:
    source: dict[str, Any] = {
        "name": name,
        "uid": uid_,
        "type": type_,
        "access": "proxy",
        "url": url,
        "editable": False,
    }
    if tenant is not None:
        json_data["httpHeaderName1"] = TENANT_HEADER
        source["secureJsonData"] = {"httpHeaderValue1": tenant}
    if json_data:
        source["jsonData"] = json_data
    return source


def datasources(plan: HubPlan, urls: DatasourceUrls) -> list[dict[str, Any]]:
    edges = [e.name for e in plan.settings.edges]
    fleet = tenant_list(edges)
    mimir = plan.mimir
    result = [
        _datasource("Fleet metrics", uid("metrics", None), "prometheus", urls.metrics, fleet if mimir else None),
        _datasource("Fleet traces", uid("traces", None), "tempo", urls.traces, fleet),
        _datasource("Fleet logs", uid("logs", None), "loki", urls.logs, fleet),
    ]
    result[0]["isDefault"] = True
    for edge in edges:
        if mimir:
            result.append(_datasource(f"{edge} metrics", uid("metrics", edge), "prometheus", urls.metrics, edge))
        result.append(_datasource(f"{edge} traces", uid("traces", edge), "tempo", urls.traces, edge))
        result.append(_datasource(f"{edge} logs", uid("logs", edge), "loki", urls.logs, edge))
    return result


def grafana_values(plan: HubPlan, urls: DatasourceUrls, admin_secret: str) -> dict[str, Any]:
    return {
        "admin": {"existingSecret": admin_secret, "userKey": ADMIN_USER_KEY, "passwordKey": ADMIN_PASSWORD_KEY},
        "datasources": {"datasources.yaml": {"apiVersion": 1, "datasources": datasources(plan, urls)}},
        **placed(plan.availability, Component.GRAFANA),
        "service": {"sessionAffinity": "ClientIP"},
    }
