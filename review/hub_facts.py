"""What an operator checks on a hub before anything else, read from its preview: ingest endpoints,
certificate expiry, chart versions, sizing and the controls on each bucket.

Pure functions over export records (secrets already masked) and validated settings. Sizing comes
from what the program sizes its releases with (the hub plan, components/hub_plan.py, and
components/edge_sizing.py), so the report shows what the program declares.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

from cryptography import x509
from cryptography.x509.oid import NameOID

from components import edge_sizing, hub_sizing, traces_kafka_plan, vmagent_sizing
from components.hub_plan import HubPlan
from components.settings import Agent, EdgeSettings, HubSettings

ROOT_TYPE = "pulumi:pulumi:Stack"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "gcp:storage/bucket:Bucket")
ENDPOINT_OUTPUTS = {"remoteWriteUrl": "metrics (Prometheus remote write)", "otlpEndpoint": "traces (OTLP)",
                    "lokiPushUrl": "logs (Loki push)"}
PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
GCS_CONTROLS = ("encryption", "versioning", "lifecycleRules", "logging", "retentionPolicy",
                "uniformBucketLevelAccess", "publicAccessPrevention", "softDeletePolicy")
"""GCS bucket inputs that are controls (the bucket's own settings; S3 uses separate resources)."""
MIB = 1024 * 1024


def endpoints(resources: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Signal -> ingest URL, from the stack's outputs."""
    root = next((r for r in resources if r.get("type") == ROOT_TYPE), None)
    outputs = (root or {}).get("outputs") or {}
    return {label: str(outputs[key]) for key, label in ENDPOINT_OUTPUTS.items() if isinstance(outputs.get(key), str)}


def certificates(settings: HubSettings, resources: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every certificate the hub's resources output (public PEMs), with its role and notAfter:
    `ca` (self-signed), `edge` (its common name is one of the hub's edges) or `server/reader`."""
    edges = {e.name for e in settings.edges}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for record in resources:
        if not str(record.get("type", "")).startswith("tls:"):
            continue
        for value in (record.get("outputs") or {}).values():
            if not (isinstance(value, str) and value.startswith(PEM_BEGIN)):
                continue
            try:
                certificate = x509.load_pem_x509_certificate(value.encode())
            except ValueError:
                continue
            name = _common_name(certificate.subject)
            role = "ca" if certificate.subject == certificate.issuer else "edge" if name in edges else "server/reader"
            found[(role, name)] = {"name": name, "role": role,
                                   "notAfter": certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")}
    order = {"ca": 0, "server/reader": 1, "edge": 2}
    return sorted(found.values(), key=lambda c: (order[c["role"]], c["name"]))


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def charts(resources: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each Helm release: its chart, version and namespace."""
    releases = []
    for record in resources:
        if record.get("type") == RELEASE_TYPE:
            inputs = record.get("inputs") or {}
            releases.append({"release": record["urn"].split("::")[-1], "chart": inputs.get("chart"),
                             "version": inputs.get("version"), "namespace": inputs.get("namespace")})
    return sorted(releases, key=lambda r: str(r["release"]))


def _resources(resources: hub_sizing.Resources, replicas: int = 1) -> dict[str, Any]:
    return {"replicas": replicas, "cpuMillicores": resources.cpu_millicores,
            "memoryMiB": math.ceil(resources.memory_bytes / MIB)}


def _traces_kafka(plan: HubPlan) -> list[dict[str, Any]]:
    """The traces' own Kafka (Mimir tier without `scale.tracesKafka`): brokers and controllers."""
    kafka = plan.traces_kafka
    if kafka is None:
        return []
    return [
        {"component": "traces-kafka-broker", **_resources(traces_kafka_plan.BROKER_RESOURCES, kafka.brokers),
         "diskGiB": kafka.broker_disk_gib},
        {"component": "traces-kafka-controller",
         **_resources(traces_kafka_plan.CONTROLLER_RESOURCES, traces_kafka_plan.CONTROLLERS),
         "diskGiB": traces_kafka_plan.CONTROLLER_DISK_GIB},
    ]


def hub_sizing_json(settings: HubSettings) -> dict[str, Any]:
    """The hub's sized stores: memory, CPU and disk per component of the metrics store (and, in the
    Mimir tier, of the traces' own Kafka), and the out-of-order window."""
    plan = HubPlan.of(settings)
    load = hub_sizing.IngestLoad.of(settings.edges)
    base = {"tier": settings.tier.value, "tenantIsolation": settings.metrics_isolated, "series": load.series,
            "samplesPerSecond": round(load.samples_per_second)}
    sized, mimir = plan.receiver_sizing, plan.mimir_sizing
    if sized is not None:
        return {**base, "outOfOrderWindow": sized.out_of_order_window,
                "components": [{"component": "prometheus", **_resources(sized.resources), "diskGiB": sized.disk_gib}]}
    assert mimir is not None, "a plan sizes the hub Prometheus as receiver or Mimir"
    return {**base, "outOfOrderWindow": mimir.out_of_order_window, "components": [
        {"component": "ingester", **_resources(mimir.ingester, mimir.ingesters), "diskGiB": mimir.ingester_disk_gib},
        {"component": "distributor", **_resources(mimir.distributor, mimir.distributors), "diskGiB": 0},
        *_traces_kafka(plan),
    ]}


def edge_sizing_row(name: str, entry: Mapping[str, Any], settings: Optional[EdgeSettings]) -> dict[str, Any]:
    """One edge's row of its hub's sizing table. The agent's own sizing (queue, WAL, resources)
    needs the edge's stack file; an edge not in this review has only its hub entry's facts.
    Agent-specific sizing extends this row (one row per edge, whatever its agent)."""
    row: dict[str, Any] = {"edge": name, "seriesEstimate": entry["seriesEstimate"], "bufferHours": entry["bufferHours"],
                           "sized": settings is not None}
    if settings is None:
        return row
    if settings.agent is Agent.VMAGENT:
        vm = vmagent_sizing.for_settings(settings)
        return {**row, "agent": settings.agent.value, "queue": {"queues": vm.queues},
                "walRetention": f"maxDiskUsagePerURL {vm.max_disk_usage_bytes / 1e6:.0f} MB", "walVolumeGiB": vm.volume_gib,
                **_agent_resources(vm.resources)}
    sized = edge_sizing.for_settings(settings)
    return {**row, "agent": settings.agent.value,
            "queue": {"capacity": sized.queue.capacity, "maxShards": sized.queue.max_shards,
                      "maxSamplesPerSend": sized.queue.max_samples_per_send},
            "walRetention": sized.wal_retention, "walVolumeGiB": sized.wal_volume_gib,
            **_agent_resources(sized.resources)}


def _agent_resources(resources: edge_sizing.Resources) -> dict[str, int]:
    return {"cpuRequestMillicores": resources.cpu_request_millicores,
            "memoryRequestMiB": resources.memory_request_mib,
            "memoryLimitMiB": resources.memory_limit_mib}


def bucket_controls(resources: Sequence[Mapping[str, Any]], violations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each bucket: the controls declared on it (S3: the resources that configure it; GCS: its
    control settings) and the storage policies it violates."""
    buckets = [r for r in resources if r.get("type") in BUCKET_TYPES]
    rows = []
    for bucket in buckets:
        urn = bucket["urn"]
        if bucket["type"].startswith("aws:"):
            attached = {r["type"].split(":")[-1] for r in resources
                        if r is not bucket and any(urn in urns for urns in (r.get("propertyDependencies") or {}).values())}
            controls = sorted(attached)
        else:
            inputs = bucket.get("inputs") or {}
            controls = [key for key in GCS_CONTROLS if inputs.get(key) not in (None, False, [], {})]
        failed = sorted({v["policy"] for v in violations if v.get("urn") == urn})
        rows.append({"bucket": urn.split("::")[-1], "type": bucket["type"], "controls": controls, "violations": failed})
    return rows


def hub_json(settings: HubSettings, resources: Sequence[Mapping[str, Any]], violations: Sequence[Mapping[str, Any]],
             edge_settings: Mapping[str, EdgeSettings]) -> dict[str, Any]:
    """Every fact of this module for one hub; `edge_settings`: the reviewed edges by cluster name."""
    entries = [(e.name, {"seriesEstimate": e.series_estimate, "bufferHours": e.buffer_hours}) for e in settings.edges]
    return {
        "endpoints": endpoints(resources),
        "certificates": certificates(settings, resources),
        "charts": charts(resources),
        "sizing": {**hub_sizing_json(settings),
                   "edges": [edge_sizing_row(name, entry, edge_settings.get(name)) for name, entry in entries]},
        "buckets": bucket_controls(resources, violations),
    }
