"""Meta-monitoring rules ("monitor the monitors"), as data: Prometheus rule groups.

Edges run Prometheus in agent mode or vmagent, neither evaluating rules, so everything about an
edge is judged at the hub from what the edge sends: its `up` series and its agent's own
`prometheus_remote_storage_*` (or `vmagent_remotewrite_*`, `vm_persistentqueue_*`) metrics (the
agent scrapes itself; every series carries the edge's `cluster` label). Groups:

- `obsfleet-fleet`: remote-write health per edge, and in the Prometheus tier per-edge silence.
  Needs the edges' data, so it runs where that data is: the hub Prometheus (Prometheus tier) or
  Mimir's ruler as a federated group over every edge tenant (Mimir tier). In the Mimir tier each
  alert names the edge by the tenant the series came from, never by the `cluster` label the edge
  wrote: the federated query gives every series `__tenant_id__` (overwriting one the edge sent,
  which survives only as `original___tenant_id__`), the rules aggregate by it and copy it into
  `cluster`. Series an edge labels `cluster=<other edge>` are judged as its own. A group with
  one source tenant may get its series without `__tenant_id__` (the query path's single-tenant
  bypass), so there the one tenant is written in. The Prometheus tier has only the label.
- `obsfleet-tenants` (Mimir tier): per-edge silence judged on the tenant, not on a label. The
  tenant is the one the front door derived from the edge's certificate, so no other edge can
  keep an edge "alive" by writing series labelled `cluster=<it>` (they land in its own tenant):
  the hub Prometheus watches Mimir's own per-tenant ingest counter,
  `cortex_distributor_received_samples_total{user=<edge>}`. A per-tenant counter of the front
  door would judge the same identity but needs a metrics module nginx's packaged builds lack; the
  distributor's counts samples accepted, which is what "silent" means. In the Prometheus tier one
  TSDB has no tenants: silence is `absent(up{cluster=<edge>})`, which another edge could mask
  by forging that label: that tier is the default only for a single edge, and the report says
  "no tenant isolation" when it serves more.
- `obsfleet-hub-<tier>`, `obsfleet-traces`, `obsfleet-logs`: the hub's own ingest paths, from the
  hub components' metrics, scraped by the hub Prometheus in both tiers (the monitor of Mimir must
  not live in Mimir). In the Mimir tier this includes the ruler failing to evaluate the fleet
  group, which would keep every edge's alert from firing, and Tempo's Kafka consumers falling
  behind towards the time the traces' Kafka keeps spans.
- `obsfleet-certificates`: expiry of the certificates this program issued. Nothing exports a
  metric for an mTLS client certificate (the agent does not, a blackbox probe only sees the
  server's), but the program knows every certificate's notAfter: it records them as
  `obsfleet:certificate_expiry_timestamp_seconds` and alerts from it. Renewal happens only on a
  `pulumi up` inside the early-renewal window, so the warning fires when that window opens.
  Limitation: after the hub renews an edge's certificate, the rule tracks the new one; an edge
  whose stack was not updated keeps using the old one until its own expiry.

Remote-write metric names hold for Prometheus 2.42 (the edges' floor, checked against the
binary) and 3.x: `samples_failed_total` (non-retryable, lost), `samples_retried_total`,
`samples_dropped_total` (edges set no write relabelling, so any drop is loss),
`queue_highest_sent_timestamp_seconds`; the newest enqueued timestamp is
`queue_highest_timestamp_seconds` from 2.53/3.x and only the process-wide
`highest_timestamp_in_seconds` before (deprecated since), so the lag uses whichever exists.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import yaml

from components.edge_sizing import WAL_VOLUME_MARGIN
from components.traces_kafka_plan import RETENTION_HOURS

Rule = dict[str, Any]
Group = dict[str, Any]

FLEET_GROUP = "obsfleet-fleet"
TENANT_GROUP = "obsfleet-tenants"
CERTIFICATE_GROUP = "obsfleet-certificates"
CERTIFICATE_METRIC = "obsfleet:certificate_expiry_timestamp_seconds"
CRITICAL_EXPIRY_DAYS = 7
REMOTE_WRITE_LAG_SECONDS = 120
"""Above a normal batch deadline plus one retry backoff; below the hub's 5 m lookback."""
LAG_LOOKBACK = "1h"
"""A lagging edge's own gauges reach the hub late by the lag itself: look back far enough."""
LOSS_TOLERANCE_SECONDS = REMOTE_WRITE_LAG_SECONDS
"""Unsent samples beyond the lag's estimate that still count as noise, in seconds of intake: a
caught-up agent (lag below REMOTE_WRITE_LAG_SECONDS) holds more only if its intake over the lag
ran at twice its 5-minute average or more. A truncation loss is a whole WAL segment and more
(components/edge_wal.py): at the sized truncation period, hours of intake."""
ERROR_RATIO = 0.01
TENANT_LABEL = "__tenant_id__"
"""What Mimir's federated queries label every series with: the tenant it was read from."""
AGENT_CLAIM = "prom-agent-.+-db-prom-agent-.+"
"""The agent's WAL claim as prometheus-operator names it (claim template `prom-agent-<name>-db`)."""

_NEWEST_ENQUEUED = "prometheus_remote_storage_queue_highest_timestamp_seconds"
_NEWEST_ENQUEUED_BEFORE_2_53 = "prometheus_remote_storage_highest_timestamp_in_seconds"
_NEWEST_SENT = "prometheus_remote_storage_queue_highest_sent_timestamp_seconds"
_SAMPLES_IN = "prometheus_remote_storage_samples_in_total"
_SENT_ATTEMPTS = "prometheus_remote_storage_samples_total"
_RETRIED = "prometheus_remote_storage_samples_retried_total"
_DROPPED = "prometheus_remote_storage_samples_dropped_total"
_PENDING = "prometheus_remote_storage_samples_pending"


@dataclass(frozen=True)
class Certificate:
    """A certificate the hub issued, and when it stops being valid."""

    name: str
    """`ca`, `server`, or the edge cluster the client certificate belongs to."""
    role: str
    """`ca` | `server` | `client`."""
    not_after: int
    """Unix seconds."""


def _alert(name: str, expr: str, severity: str, summary: str, description: str, wait: str | None) -> Rule:
    rule: Rule = {"alert": name, "expr": expr}
    if wait:
        rule["for"] = wait
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


def _rate_by(labels: str, metric: str) -> str:
    return f"sum by ({labels}) (rate({metric}[5m]))"


def _error_ratio(metric: str, selector: str, errors: str) -> str:
    """Share of requests matching `errors` among those matching `selector` (one metric)."""
    return (
        f"sum(rate({metric}{{{selector}, {errors}}}[5m]))\n"
        f"  / sum(rate({metric}{{{selector}}}[5m])) > {ERROR_RATIO}"
    )


SILENT_DESCRIPTION = (
    "No sample from edge {edge} has reached the hub for 15 minutes: the agent is down, its remote "
    "write is failing, or the edge was removed without updating obsfleet:edges."
)


def _silent(edge: str, expr: str) -> Rule:
    rule = _alert(
        "ObsfleetEdgeSilent", expr, "critical", f"Edge {edge} sends no metrics to its hub",
        SILENT_DESCRIPTION.format(edge=edge), "10m",
    )
    # One rule per edge: the label keeps them distinct (promtool rejects identical rules).
    rule["labels"]["cluster"] = edge
    return rule


def edge_silent(edge: str) -> Rule:
    """Prometheus tier: no `up` series carrying the edge's `cluster` label."""
    return _silent(edge, f'absent(up{{cluster="{edge}"}})')


def tenant_silent(edge: str) -> Rule:
    """Mimir tier: the edge's tenant (bound to its certificate) receives no samples."""
    received = f'sum(rate(cortex_distributor_received_samples_total{{user="{edge}"}}[5m])) > 0'
    return _silent(edge, f"absent({received})")


def tenant_group(edges: Sequence[str]) -> Group:
    """Mimir tier, in the hub Prometheus: silence per edge tenant from Mimir's own counters."""
    return {"name": TENANT_GROUP, "rules": [tenant_silent(edge) for edge in edges]}


@dataclass(frozen=True)
class EdgeOf:
    """How a fleet rule tells which edge a series came from; its result names the edge in `cluster`.

    By label (the Prometheus tier): the `cluster` label the edge writes (no tenants). By tenant
    (the Mimir tier): the tenant the front door derived from the edge's certificate, as the
    federated query's `__tenant_id__`.
    """

    by_tenant: bool
    edges: tuple[str, ...]

    def aggregate(self, op: str, vector: str, keep: str = "") -> str:
        """`op by (cluster[, keep]) (vector)`, with `cluster` the series' edge."""
        extra = f", {keep}" if keep else ""
        if not self.by_tenant:
            return f"{op} by (cluster{extra}) ({vector})"
        # Per tenant first (one series per tenant), then the tenant as `cluster`: relabelling the
        # raw series instead could give two series one label set (an edge's own and the ones it
        # labels as another), which fails the whole evaluation for every edge.
        per_tenant = f"{op} by ({TENANT_LABEL}{extra}) ({vector})"
        return f"{op} by (cluster{extra}) (label_replace(\n  {per_tenant},\n  {self._tenant_as_cluster()}\n))"

    def _tenant_as_cluster(self) -> str:
        """label_replace's arguments setting `cluster` to the series' tenant."""
        if len(self.edges) == 1:
            # One source tenant: every series is that edge's, with or without `__tenant_id__`.
            return f'"cluster", "{self.edges[0]}", "", ""'
        return f'"cluster", "$1", "{TENANT_LABEL}", "(.*)"'

    def rate(self, metric: str) -> str:
        return self.aggregate("sum", f"rate({metric}[5m])") + " > 0"


def _lag(over: str = "") -> str:
    """Seconds between the newest sample enqueued and the newest sent, per remote (two lines);
    each gauge read through `over` (a range function) when given."""
    enqueued, legacy, sent = (
        f"{over}({metric}[{LAG_LOOKBACK}])" if over else metric
        for metric in (_NEWEST_ENQUEUED, _NEWEST_ENQUEUED_BEFORE_2_53, _NEWEST_SENT)
    )
    return f"({enqueued} - {sent})\nor ({_per_agent(legacy)} - ignoring (remote_name, url) group_right {sent})"


def _per_agent(vector: str) -> str:
    # Unique per (edge, instance) before matching a queue's series: a series an edge adds with a
    # queue's labels would otherwise make the match many-to-many and fail the rule for every edge.
    return f"max without (remote_name, url) ({vector})"


def _block(text: str, indent: str = "  ") -> str:
    """`text` inside parentheses, its lines indented."""
    return "(\n" + textwrap.indent(text, indent) + "\n)"


def _remote_write_lag(edge_of: EdgeOf) -> str:
    lag = "\n" + textwrap.indent(_lag("last_over_time"), "  ") + "\n"
    return f"{edge_of.aggregate('max', lag)} > {REMOTE_WRITE_LAG_SECONDS}"


def _remote_write_lost(edge_of: EdgeOf) -> str:
    # Unsent: stored (`samples_in`) minus what left for the queue (attempts less retries, plus
    # drops) and what waits in it. A caught-up agent's unsent samples are those stored during the
    # lag, estimated at the 5-minute intake rate; the rest were never read from the WAL.
    intake = _per_agent(f"rate({_SAMPLES_IN}[5m])")
    # 3.x counts drops per `reason` and exports none before the first.
    dropped = f"(sum without (reason) ({_DROPPED}) or {_SENT_ATTEMPTS} * 0)"
    left = f"{_SENT_ATTEMPTS}\n- {_RETRIED}\n+ {dropped}\n+ {_PENDING}"
    unsent = f"{_per_agent(_SAMPLES_IN)}\n- ignoring (remote_name, url) group_right () {_block(left)}"
    lag = _block(_lag())
    lost = (
        f"{_block(unsent)}\n"
        f"- {lag} * ignoring (remote_name, url) group_left {intake}\n"
        f"> ignoring (remote_name, url) group_left () ({LOSS_TOLERANCE_SECONDS} * {intake})\n"
        f"and {lag} < {REMOTE_WRITE_LAG_SECONDS}"
    )
    return edge_of.aggregate("max", "\n" + textwrap.indent(lost, "  ") + "\n")


def _wal_volume_use(edge_of: EdgeOf) -> str:
    # kubelet's volume stats of the agent's claim (prometheus-operator: prom-agent-<name>-db-...);
    # the sized volume is the model's peak x WAL_VOLUME_MARGIN, so the peak is this fraction of it.
    claim = f'persistentvolumeclaim=~"{AGENT_CLAIM}"'
    use = (
        f"\n"
        f"  kubelet_volume_stats_used_bytes{{{claim}}}\n"
        f"  / kubelet_volume_stats_capacity_bytes{{{claim}}}\n"
    )
    return f"{edge_of.aggregate('max', use, keep='persistentvolumeclaim')} > {1 / WAL_VOLUME_MARGIN:g}"


def fleet_group(edges: Sequence[str], *, by_tenant: bool) -> Group:
    """Rules over the edges' own data: remote-write health and, told apart by label, silence per
    edge. `by_tenant`: the group runs in Mimir's ruler over the edges' tenants, which tell the
    edges apart (silence per tenant is `tenant_group`'s)."""
    edge_of = EdgeOf(by_tenant, tuple(edges))
    rules = [] if by_tenant else [edge_silent(edge) for edge in edges]
    rules += [
        _alert(
            "ObsfleetEdgeRemoteWriteFailing",
            edge_of.rate("prometheus_remote_storage_samples_failed_total"),
            "critical",
            "Edge {{ $labels.cluster }} is losing samples: the hub rejects them",
            "{{ $value | humanize }} samples/s fail with a non-retryable error (4xx such as "
            "out-of-bound) and are lost. Check the hub's ingestion alerts.",
            "5m",
        ),
        _alert(
            "ObsfleetEdgeRemoteWriteRetrying",
            edge_of.rate("prometheus_remote_storage_samples_retried_total"),
            "warning",
            "Edge {{ $labels.cluster }} keeps retrying remote write",
            "{{ $value | humanize }} samples/s are retried (hub 5xx or 429); the edge's WAL buffer "
            "is filling.",
            "15m",
        ),
        _alert(
            "ObsfleetEdgeRemoteWriteDropping",
            edge_of.rate("prometheus_remote_storage_samples_dropped_total"),
            "critical",
            "Edge {{ $labels.cluster }} drops samples before sending them",
            "{{ $value | humanize }} samples/s are dropped by the agent (too old for its queue or "
            "for unknown series); edges configure no write relabelling, so this is data loss.",
            "5m",
        ),
        _alert(
            "ObsfleetEdgeWalVolumeFilling",
            _wal_volume_use(edge_of),
            "warning",
            "Edge {{ $labels.cluster }}'s agent WAL volume is {{ $value | humanizePercentage }} full",
            "Above the sized peak (components/edge_sizing.py): the edge holds more series than its "
            "seriesEstimate. A full volume stops the agent storing scrapes (the edge goes silent) "
            "until a restart, whose WAL guard deletes the WAL: raise seriesEstimate (the volume "
            "follows) first.",
            "15m",
        ),
        _alert(
            "ObsfleetEdgeWalSamplesLost",
            _remote_write_lost(edge_of),
            "critical",
            "Edge {{ $labels.cluster }} lost samples its agent had stored",
            "{{ $value | humanize }} samples in the agent's WAL were never sent: a WAL truncation "
            "deleted them before remote write read them (an outage longer than the WAL window, "
            "docs/edge-agents.md). The count runs since the agent started; it clears when the "
            "agent restarts.",
            None,
        ),
        _alert(
            "ObsfleetEdgeRemoteWriteBehind",
            _remote_write_lag(edge_of),
            "warning",
            "Edge {{ $labels.cluster }} remote write is falling behind",
            "The newest sample sent is {{ $value | humanizeDuration }} older than the newest "
            "sample the agent collected.",
            "15m",
        ),
    ]
    return {"name": FLEET_GROUP, "rules": rules + vmagent_rules(edge_of)}


def vmagent_rules(edge_of: EdgeOf) -> list[Rule]:
    """The same health for edges running vmagent (`obsfleet:agent: vmagent`), from its own metrics:
    it counts blocks and bytes, not samples."""
    return [
        _alert(
            "ObsfleetEdgeVmagentRejected",
            edge_of.rate("vmagent_remotewrite_packets_dropped_total"),
            "critical",
            "Edge {{ $labels.cluster }} is losing samples: the hub rejects vmagent's blocks",
            "{{ $value | humanize }} blocks/s are rejected with a non-retryable error (4xx such as "
            "out-of-order) and dropped. Check the hub's ingestion alerts.",
            "5m",
        ),
        _alert(
            "ObsfleetEdgeVmagentRetrying",
            edge_of.rate("vmagent_remotewrite_retries_count_total"),
            "warning",
            "Edge {{ $labels.cluster }} keeps retrying remote write",
            "vmagent retries {{ $value | humanize }} requests/s (hub unreachable, 5xx or 429); its "
            "disk buffer is filling.",
            "15m",
        ),
        _alert(
            "ObsfleetEdgeVmagentBufferFull",
            edge_of.rate("vm_persistentqueue_bytes_dropped_total"),
            "critical",
            "Edge {{ $labels.cluster }} drops its oldest buffered samples",
            "vmagent's disk buffer reached -remoteWrite.maxDiskUsagePerURL (bufferHours of samples) "
            "and drops {{ $value | humanize1024 }}B/s of the oldest data.",
            "5m",
        ),
    ]


def _rejected_samples() -> str:
    # rate() drops the metric name, so each counter gets its reason as a label before the union.
    reasons = ("out_of_bound", "out_of_order", "too_old")
    union = "\n  or ".join(
        f'label_replace(rate(prometheus_tsdb_{r}_samples_total[5m]), "reason", "{r}", "", "")' for r in reasons
    )
    return f"sum by (reason) (\n  {union}\n) > 0"


def _prometheus_ingest() -> list[Rule]:
    return [
        _alert(
            "ObsfleetHubIngestErrors",
            _error_ratio("prometheus_http_requests_total", 'handler="/api/v1/write"', 'code=~"5.."'),
            "critical",
            "The hub's remote-write receiver answers with server errors",
            "{{ $value | humanizePercentage }} of remote-write requests fail with 5xx; edges "
            "retry and their buffers fill.",
            "10m",
        ),
        _alert(
            "ObsfleetHubSamplesRejected",
            _rejected_samples(),
            "warning",
            "The hub rejects samples ({{ $labels.reason }})",
            "{{ $value | humanize }} samples/s are rejected by the receiver's TSDB: an edge replays "
            "a backlog older than the out-of-order window, or two writers send the same series.",
            "5m",
        ),
    ]


def _mimir_ingest() -> list[Rule]:
    return [
        _alert(
            "ObsfleetHubIngestErrors",
            _error_ratio(
                "cortex_request_duration_seconds_count",
                'route=~"api_v1_push|otlp_v1_metrics"',
                'status_code=~"5.."',
            ),
            "critical",
            "Mimir's push path answers with server errors",
            "{{ $value | humanizePercentage }} of push requests fail with 5xx.",
            "10m",
        ),
        _alert(
            "ObsfleetHubSamplesRejected",
            _rate_by("user, reason", "cortex_discarded_samples_total") + " > 0",
            "warning",
            "Mimir discards samples of tenant {{ $labels.user }} ({{ $labels.reason }})",
            "{{ $value | humanize }} samples/s are discarded.",
            "5m",
        ),
        _alert(
            "ObsfleetFleetRulesFailing",
            _rate_by("rule_group", f'cortex_prometheus_rule_evaluation_failures_total{{rule_group=~"(.*;)?{FLEET_GROUP}"}}')
            + " > 0",
            "critical",
            "Mimir's ruler fails to evaluate the fleet rules",
            "{{ $value | humanize }} evaluations/s of {{ $labels.rule_group }} fail: no edge's remote-write "
            "alert can fire. One tenant's series can fail a query over all of them; the ruler's log names it.",
            "10m",
        ),
    ]


def _traces_kafka_lag() -> list[Rule]:
    """Tempo's Kafka consumers behind by a quarter of the time the hub's own traces Kafka keeps
    spans: block-builders that stay behind past it lose the oldest spans before they reach the
    bucket (components/traces_kafka_plan.py)."""
    limit_hours = RETENTION_HOURS // 4
    return [
        _alert(
            "ObsfleetTracesKafkaLagging",
            f"max by (group, partition) (tempo_ingest_group_partition_lag_seconds) > {limit_hours * 3_600}",
            "critical",
            "Tempo's {{ $labels.group }} is behind on traces Kafka partition {{ $labels.partition }}",
            f"It is {{{{ $value | humanizeDuration }}}} behind. Kafka keeps spans {RETENTION_HOURS} h: what "
            "block-builders have not stored in the bucket by then is lost.",
            "10m",
        )
    ]


def hub_groups(*, mimir: bool) -> list[Group]:
    """Rules over the hub's own components, evaluated by the hub Prometheus; the ingest group
    watches the metrics store: Mimir, or the hub Prometheus as receiver (and tempo-distributed's
    Kafka consumers run beside Mimir)."""
    store, ingest = ("mimir", _mimir_ingest()) if mimir else ("prometheus", _prometheus_ingest())
    traces = [
        _alert(
            "ObsfleetTracesRefused",
            "sum(rate(tempo_receiver_refused_spans[5m])) > 0",
            "critical",
            "Tempo's OTLP receiver refuses spans",
            "{{ $value | humanize }} spans/s are refused before entering Tempo.",
            "5m",
        ),
        _alert(
            "ObsfleetTracesDiscarded",
            _rate_by("tenant, reason", "tempo_discarded_spans_total") + " > 0",
            "warning",
            "Tempo discards spans of tenant {{ $labels.tenant }} ({{ $labels.reason }})",
            "{{ $value | humanize }} spans/s are discarded.",
            "10m",
        ),
        *(_traces_kafka_lag() if mimir else []),
    ]
    logs = [
        _alert(
            "ObsfleetLogsPushErrors",
            _error_ratio(
                "loki_request_duration_seconds_count",
                'route=~"loki_api_v1_push|otlp_v1_logs"',
                'status_code=~"5.."',
            ),
            "critical",
            "Loki's push path answers with server errors",
            "{{ $value | humanizePercentage }} of log pushes fail with 5xx.",
            "10m",
        ),
        _alert(
            "ObsfleetLogsDiscarded",
            _rate_by("tenant, reason", "loki_discarded_samples_total") + " > 0",
            "warning",
            "Loki discards log lines of tenant {{ $labels.tenant }} ({{ $labels.reason }})",
            "{{ $value | humanize }} lines/s are discarded.",
            "10m",
        ),
    ]
    return [
        {"name": f"obsfleet-hub-{store}", "rules": ingest},
        {"name": "obsfleet-traces", "rules": traces},
        {"name": "obsfleet-logs", "rules": logs},
    ]


def certificate_group(certificates: Iterable[Certificate], renewal_days: int) -> Group:
    """Each certificate's notAfter as a series, and alerts when renewal is due or overdue."""
    rules: list[Rule] = [
        {
            "record": CERTIFICATE_METRIC,
            "expr": f"vector({c.not_after})",
            "labels": {"certificate": c.name, "role": c.role},
        }
        for c in sorted(certificates, key=lambda c: (c.role, c.name))
    ]
    remaining = f"{CERTIFICATE_METRIC} - time()"
    rules += [
        _alert(
            "ObsfleetCertificateRenewalDue",
            f"{remaining} < {renewal_days * 86_400}",
            "warning",
            "Certificate {{ $labels.certificate }} ({{ $labels.role }}) is due for renewal",
            "It expires in {{ $value | humanizeDuration }}. `pulumi up` on the hub re-issues a leaf "
            "certificate inside its early-renewal window (then update the edge stack); the CA is "
            "rotated deliberately.",
            None,
        ),
        _alert(
            "ObsfleetCertificateExpiring",
            f"{remaining} < {CRITICAL_EXPIRY_DAYS * 86_400}",
            "critical",
            "Certificate {{ $labels.certificate }} ({{ $labels.role }}) expires soon",
            "It expires in {{ $value | humanizeDuration }}; mTLS connections using it will fail.",
            None,
        ),
    ]
    return {"name": CERTIFICATE_GROUP, "rules": rules}


# libyaml's emitter when PyYAML has it: same text, ~6x faster than the pure-Python one, which
# took 0.26 s of a 500-edge hub's preview for the fleet rule file alone.
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Multi-line expressions as literal blocks, as people write them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def rules_file(groups: Sequence[Group]) -> str:
    """A Prometheus rule file (`promtool check rules` input)."""
    return yaml.dump({"groups": list(groups)}, Dumper=_Dumper, sort_keys=False, width=120)
