"""The JSON Schema of report.json (schemaVersion 2), written next to it as report.schema.json.

Consumers (dashboards, CI gates) validate against it; a change of shape raises
`report.SCHEMA_VERSION`. Rows that other parts of the review extend (an edge's sizing row) allow
extra fields; everything else is closed so a renamed field is caught.
"""

from __future__ import annotations

from typing import Any

from review.errors import ExitCode
from review.report import LEVEL_ORDER, SCHEMA_VERSION

SCHEMA_ID = "https://obsfleet.dev/schema/report.json"


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = (), closed: bool = True) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": [k for k in properties if k not in optional], "additionalProperties": not closed}


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
COUNT = {"type": "integer", "minimum": 0}
TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"}
STATUS = {"enum": ["ok", "waiting", "failed", "skipped"]}

_VIOLATION = _object({
    "policy": STRING, "enforcement": STRING, "urn": NULLABLE_STRING, "message": STRING, "finding": STRING,
    "remediation": NULLABLE_STRING,
})
_TREE = {"$ref": "#/$defs/tree"}
_STACK = _object({
    "name": STRING, "role": {"enum": ["hub", "edge"]}, "cloud": STRING, "region": STRING, "regime": STRING,
    "cluster": STRING, "hub": NULLABLE_STRING, "status": STATUS, "error": NULLABLE_STRING,
    "waiting": NULLABLE_STRING,
    "seconds": {"type": "number", "minimum": 0}, "resources": COUNT, "components": COUNT, "mandatory": COUNT,
    "advisory": COUNT, "tree": {"anyOf": [_TREE, {"type": "null"}]}, "violations": {"type": "array", "items": _VIOLATION},
}, optional=("seconds",))
_FINDING = _object({
    "level": {"enum": list(LEVEL_ORDER)}, "stack": STRING, "source": STRING, "resource": NULLABLE_STRING,
    "text": NULLABLE_STRING,
})
_POLICY = _object({"name": STRING, "enforcement": STRING, "stacks": COUNT, "violations": COUNT,
                   "passed": {"type": "boolean"}})
_RESOURCES = {"replicas": COUNT, "cpuMillicores": COUNT, "memoryMiB": COUNT, "diskGiB": COUNT}
_EDGE_ROW = _object({
    "edge": STRING, "seriesEstimate": COUNT, "bufferHours": {"type": "number", "exclusiveMinimum": 0},
    "sized": {"type": "boolean"},
    "agent": {"enum": ["prometheus", "vmagent"]},
    # The Prometheus agent's queue_config, or vmagent's queue count.
    "queue": {"anyOf": [_object({"capacity": COUNT, "maxShards": COUNT, "maxSamplesPerSend": COUNT}, closed=False),
                        _object({"queues": COUNT})]},
    "walRetention": STRING, "walVolumeGiB": COUNT, "cpuRequestMillicores": COUNT, "memoryRequestMiB": COUNT,
    "memoryLimitMiB": COUNT,
}, optional=("agent", "queue", "walRetention", "walVolumeGiB", "cpuRequestMillicores", "memoryRequestMiB", "memoryLimitMiB"),
    closed=False)
_AGENT_FOOTPRINT = _object({"cpuMillicores": COUNT, "memoryRequestMiB": COUNT, "memoryLimitMiB": COUNT, "volumeGiB": COUNT})
_EDGE_AGENTS = _object({"edge": STRING, "agents": _object({
    "runs": {"enum": ["prometheus", "vmagent"]}, "prometheus": _AGENT_FOOTPRINT, "vmagent": _AGENT_FOOTPRINT,
})})
_HUB = _object({
    "hub": STRING, "status": STATUS,
    "endpoints": {"type": "object", "additionalProperties": STRING},
    "certificates": {"type": "array", "items": _object({"name": STRING, "role": {"enum": ["ca", "server/reader", "edge"]},
                                                        "notAfter": TIMESTAMP})},
    "charts": {"type": "array", "items": _object({"release": STRING, "chart": NULLABLE_STRING,
                                                  "version": NULLABLE_STRING, "namespace": NULLABLE_STRING})},
    "sizing": _object({
        "tier": {"enum": ["prometheus", "mimir"]}, "tenantIsolation": {"type": "boolean"}, "series": COUNT, "samplesPerSecond": COUNT, "outOfOrderWindow": STRING,
        "components": {"type": "array", "items": _object({"component": STRING, **_RESOURCES})},
        "edges": {"type": "array", "items": _EDGE_ROW},
    }),
    "buckets": {"type": "array", "items": _object({
        "bucket": STRING, "type": STRING, "controls": {"type": "array", "items": STRING},
        "violations": {"type": "array", "items": STRING},
    })},
})
_CAPABILITY = _object({"signal": STRING, "backend": STRING, "mechanism": STRING, "scope": STRING,
                       "status": {"enum": ["enabled", "disabled", "retention-only"]}, "evidence": STRING,
                       "retention_days": COUNT})
_DELETION = _object({"hub": STRING, "regime": STRING, "tier": STRING, "status": STATUS,
                     "signals": {"type": "array", "items": _CAPABILITY},
                     "advisories": {"type": "array", "items": STRING}})
_NODE = _object({"key": STRING, "kind": {"enum": ["hub", "edge", "bucket"]}, "label": STRING, "jurisdiction": STRING,
                 "stack": STRING, "failed": {"type": "boolean"}, "where": STRING})
_FLOW = _object({"source": STRING, "target": STRING, "label": STRING, "crossing": {"type": "boolean"},
                 "reason": NULLABLE_STRING})
_RESIDENCY = _object({
    "jurisdictions": {"type": "array", "items": _object({"name": STRING, "nodes": {"type": "array", "items": STRING}})},
    "nodes": {"type": "array", "items": _NODE}, "flows": {"type": "array", "items": _FLOW},
    "mermaid": STRING, "crossingsDefined": STRING, "legend": STRING,
})
_SUMMARY = _object({
    "stacks": COUNT, "ok": COUNT, "waiting": COUNT, "failed": COUNT, "skipped": COUNT, "mandatory": COUNT, "advisory": COUNT,
    "crossings": COUNT, "findings": COUNT, "exitCode": {"enum": [int(code) for code in ExitCode]},
})

REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "obsfleet fleet review report",
    "description": "report.json written by `python -m review preview`.",
    **_object({
        "schemaVersion": {"const": SCHEMA_VERSION},
        "project": STRING,
        "generatedAt": {"anyOf": [TIMESTAMP, {"type": "null"}]},
        "commit": {"anyOf": [{"type": "string", "pattern": r"^[0-9a-f]{40,64}(\+dirty)?$"}, {"type": "null"}]},
        "packVersion": NULLABLE_STRING,
        "summary": _SUMMARY,
        "findings": {"type": "array", "items": _FINDING},
        "policies": {"type": "array", "items": _POLICY},
        "stacks": {"type": "array", "items": _STACK},
        "residency": _RESIDENCY,
        "hubs": {"type": "array", "items": _HUB},
        "deletion": {"type": "array", "items": _DELETION},
        "edgeAgents": {"type": "array", "items": _EDGE_AGENTS},
    }),
    "$defs": {
        "tree": _object({
            "name": STRING, "type": STRING, "urn": STRING, "resources": COUNT,
            "direct": {"type": "object", "additionalProperties": COUNT},
            "children": {"type": "array", "items": {"$ref": "#/$defs/tree"}},
        }),
    },
}
