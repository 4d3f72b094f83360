"""The fleet review report: previewed stacks + policy violations -> report.json and report.md.

Pure functions. `build` makes the JSON document; `markdown` renders only from that document, so
the JSON holds everything the Markdown shows. Nothing here reads a secret: resources come from the
exports (secret values already "[secret]"), and the report shows types, names, counts, regions,
policy messages and program errors.

Exit code of a review (`exit_code`): 1 when any mandatory policy fails, including over what a
failed program declared before it stopped (an edge refused for a cross-regime hub has declared
its StackReference, which data-residency-flow judges); else 2 when a program failed (its error is
the finding); else 0.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Optional, Sequence

from components.settings import EdgeSettings, HubSettings, Regime
from review import agent_sizing, deletion, hub_facts, mermaid
from review.errors import ExitCode
from review.model import StackOutcome
from review.provenance import Provenance
from review.residency_map import residency_map
from review.stacks import PROJECT

ROOT_TYPE = "pulumi:pulumi:Stack"
ENFORCEMENT_ORDER = ("mandatory", "advisory")  # what review/analyzer.py reports (remediate counts as mandatory)
REMEDIATION_MARK = " Remediation: "
SCHEMA_VERSION = 2
"""report.json's shape (review/report_schema.py); raised when a field changes meaning or goes away."""
ERASURE_REGIMES = (Regime.GDPR, Regime.CCPA)
"""Regimes with a right to erasure (GDPR Art. 17, CCPA §1798.105): a hub that cannot erase a signal is an advisory."""
CROSSINGS_DEFINED = (
    "A residency crossing is a flow of data out of the countries its stack's regime allows: an edge "
    "shipping to a hub of another regime or outside its countries, a bucket outside its hub's countries "
    "(or whose location cannot be told), or replication to such a bucket."
)
LEVEL_ORDER = ("mandatory", "failed", "advisory")


# --- pieces -----------------------------------------------------------------------------------


def _name(urn: str) -> str:
    return urn.split("::")[-1]


def component_tree(resources: Sequence[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The stack's components nested by `parent`, each with its resource count (custom
    resources in its subtree) and its direct resources by type."""
    by_urn = {r["urn"]: r for r in resources}
    children: dict[Optional[str], list[dict[str, Any]]] = {}
    for record in resources:
        parent = record.get("parent")
        children.setdefault(parent if parent in by_urn else None, []).append(record)

    def node(record: dict[str, Any]) -> dict[str, Any]:
        kids = children.get(record["urn"], [])
        components = [node(k) for k in kids if not k.get("custom")]
        direct = Counter(k["type"] for k in kids if k.get("custom"))
        return {
            "name": _name(record["urn"]),
            "type": record["type"],
            "urn": record["urn"],
            "resources": sum(direct.values()) + sum(c["resources"] for c in components),
            "direct": dict(sorted(direct.items())),
            "children": components,
        }

    roots = [r for r in children.get(None, []) if r["type"] == ROOT_TYPE]
    return node(roots[0]) if roots else None


def violation_json(violation: Any) -> dict[str, Any]:
    message = str(violation.message)
    finding, _, remediation = message.partition(REMEDIATION_MARK)
    return {
        "policy": violation.policy,
        "enforcement": violation.enforcement,
        "urn": violation.urn,
        "message": message,
        "finding": finding.strip(),
        "remediation": remediation.strip() or None,
    }


def _violations(outcome: StackOutcome) -> list[dict[str, Any]]:
    found = [violation_json(v) for v in outcome.violations]

    def order(v: dict[str, Any]) -> tuple:
        level = v["enforcement"]
        rank = ENFORCEMENT_ORDER.index(level) if level in ENFORCEMENT_ORDER else len(ENFORCEMENT_ORDER)
        return rank, v["policy"], v["urn"] or ""

    return sorted(found, key=order)


def _stack_json(outcome: StackOutcome) -> dict[str, Any]:
    settings = outcome.config.settings
    kinds = Counter("resource" if r.get("custom") else "component" for r in outcome.resources if r["type"] != ROOT_TYPE)
    violations = _violations(outcome)
    levels = Counter(v["enforcement"] for v in violations)
    return {
        "name": outcome.name,
        "role": settings.role.value,
        "cloud": settings.cloud.value,
        "region": settings.region,
        "regime": settings.regime.value,
        "cluster": settings.cluster,
        "hub": outcome.config.hub,
        "status": outcome.status,
        "error": outcome.error,
        "waiting": outcome.waiting,
        "resources": kinds["resource"],
        "components": kinds["component"],
        "mandatory": levels["mandatory"],
        "advisory": levels["advisory"],
        "tree": component_tree(outcome.resources),
        "violations": violations,
    }


def erasure_advisories(hub: str, regime: Regime, capabilities: Sequence[deletion.Capability]) -> list[str]:
    """Why a hub under a right to erasure cannot honour one for some signal before it expires."""
    if regime not in ERASURE_REGIMES:
        return []
    found = []
    for c in capabilities:
        if c.status == "disabled":
            found.append(f"{hub} ({regime.value}) cannot erase {c.signal} on request: {c.backend} deletion is "
                         f"disabled ({c.evidence}); they live up to {c.retention_days} days")
        elif c.status == "retention-only":
            found.append(f"{hub} ({regime.value}) cannot erase {c.signal} on request ({c.evidence}); they go only "
                         f"when retention expires, after {c.retention_days} days")
    return found


def _deletion_json(outcomes: Sequence[StackOutcome]) -> list[dict[str, Any]]:
    hubs = []
    for o in outcomes:
        if not o.config.is_hub:
            continue
        settings = o.config.settings
        capabilities = deletion.capabilities(settings, o.resources)
        hubs.append({
            "hub": o.name,
            "regime": settings.regime.value,
            "tier": settings.tier.value,
            "status": o.status,
            "signals": [c.to_json() for c in capabilities],
            "advisories": erasure_advisories(o.name, settings.regime, capabilities),
        })
    return hubs


def _hubs_json(outcomes: Sequence[StackOutcome], stacks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    edges = {o.config.settings.cluster: o.config.settings for o in outcomes
             if isinstance(o.config.settings, EdgeSettings) and o.status == "ok"}
    violations = {s["name"]: s["violations"] for s in stacks}
    return [
        {"hub": o.name, "status": o.status,
         **hub_facts.hub_json(o.config.settings, o.resources, violations[o.name], edges)}
        for o in outcomes
        if isinstance(o.config.settings, HubSettings)
    ]


def _edge_agents_json(outcomes: Sequence[StackOutcome]) -> list[dict[str, Any]]:
    edges = []
    for o in outcomes:
        if isinstance(o.config.settings, EdgeSettings):
            sized = agent_sizing.engines(o.config.settings)
            if sized is not None:
                edges.append({"edge": o.name, "agents": sized})
    return edges


def isolation_advisory(hub: str, settings: HubSettings) -> list[str]:
    """A hub whose edges share one Prometheus: any of them can write series labelled as another."""
    if settings.metrics_isolated:
        return []
    return [f"{hub}: no tenant isolation for metrics: scale.tier 'prometheus' stores its {len(settings.edges)} edges' "
            "series in one Prometheus, where an edge's certificate does not bind the `cluster` label it writes "
            "(an edge can write, or hide, another's series); 'mimir' (the default from 2 edges) stores each "
            "edge under the tenant of its certificate"]


def _findings(stacks: Sequence[dict[str, Any]], hubs: Sequence[dict[str, Any]],
              isolation: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Everything that needs a look, mandatory first: violations, programs that failed or did not
    run, hubs that cannot honour an erasure request and hubs without tenant isolation."""
    found = []
    for stack in stacks:
        if stack["status"] == "waiting":
            found.append({"level": "advisory", "stack": stack["name"], "source": "onboarding", "resource": None,
                          "text": stack["waiting"]})
        elif stack["status"] != "ok":
            found.append({"level": "failed", "stack": stack["name"], "source": "program", "resource": None,
                          "text": stack["error"]})
        for v in stack["violations"]:
            found.append({"level": v["enforcement"], "stack": stack["name"], "source": v["policy"],
                          "resource": _name(v["urn"]) if v["urn"] else None, "text": finding_detail(v["finding"])})
    for hub in hubs:
        found += [{"level": "advisory", "stack": hub["hub"], "source": "deletion capability", "resource": None,
                   "text": text} for text in hub["advisories"]]
    found += [{"level": "advisory", "stack": hub, "source": "tenant isolation", "resource": None, "text": text}
              for hub, text in isolation]

    def rank(f: dict[str, Any]) -> int:
        return LEVEL_ORDER.index(f["level"]) if f["level"] in LEVEL_ORDER else len(LEVEL_ORDER)

    return sorted(found, key=rank)


def finding_detail(finding: str) -> str:
    """A policy finding is its description, then the line naming the resource and its problem."""
    return finding.strip().splitlines()[-1] if finding.strip() else ""


def _policies_json(outcomes: Sequence[StackOutcome], stacks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    levels: dict[str, str] = {}
    judged: Counter[str] = Counter()
    for o in outcomes:
        for name, level in o.policies.items():
            levels.setdefault(name, level)
            judged[name] += 1
    found = Counter(v["policy"] for s in stacks for v in s["violations"])
    return [{"name": name, "enforcement": levels[name], "stacks": judged[name], "violations": found[name],
             "passed": found[name] == 0} for name in sorted(levels)]


def build(outcomes: Sequence[StackOutcome], provenance: Provenance = Provenance()) -> dict[str, Any]:
    """The report document (report.json); `markdown(build(...))` is report.md."""
    stacks = [_stack_json(o) for o in outcomes]
    deletion_hubs = _deletion_json(outcomes)
    isolation = [(o.name, text) for o in outcomes if isinstance(o.config.settings, HubSettings)
                 for text in isolation_advisory(o.name, o.config.settings)]
    findings = _findings(stacks, deletion_hubs, isolation)
    residency = residency_map(outcomes)
    summary = {
        "stacks": len(stacks),
        "ok": sum(s["status"] == "ok" for s in stacks),
        "waiting": sum(s["status"] == "waiting" for s in stacks),
        "failed": sum(s["status"] == "failed" for s in stacks),
        "skipped": sum(s["status"] == "skipped" for s in stacks),
        "mandatory": sum(s["mandatory"] for s in stacks),
        "advisory": sum(s["advisory"] for s in stacks),
        "crossings": sum(f.crossing for f in residency.flows),
        "findings": len(findings),
    }
    summary["exitCode"] = int(exit_code(summary))
    policies = _policies_json(outcomes, stacks)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "project": PROJECT,
        "generatedAt": provenance.generated_at,
        "commit": provenance.commit,
        "packVersion": provenance.pack_version,
        "summary": summary,
        "findings": findings,
        "policies": policies,
        "stacks": stacks,
        "residency": {**residency.to_json(), "mermaid": mermaid.render(residency), "crossingsDefined": CROSSINGS_DEFINED,
                      "legend": mermaid.LEGEND},
        "hubs": _hubs_json(outcomes, stacks),
        "deletion": deletion_hubs,
        "edgeAgents": _edge_agents_json(outcomes),
    }


def exit_code(summary: dict[str, Any]) -> ExitCode:
    if summary["mandatory"]:
        return ExitCode.VIOLATION
    if summary["failed"] or summary["skipped"]:
        return ExitCode.ERROR
    return ExitCode.OK


def summary_text(report: dict[str, Any]) -> str:
    s = report["summary"]
    waiting = f", {s['waiting']} waiting for a certificate" if s["waiting"] else ""
    stopped = waiting + f", {s['failed']} failed" + (f", {s['skipped']} not previewed" if s["skipped"] else "")
    return (
        f"{s['stacks']} stacks ({s['ok']} ok{stopped}): {s['mandatory']} mandatory, "
        f"{s['advisory']} advisory violations, {s['crossings']} residency crossings; "
        f"{s['findings']} finding{'' if s['findings'] == 1 else 's'} in all"
    )


# --- Markdown ---------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    """A Markdown table cell: pipes escaped, one line."""
    return " ".join(str("" if text is None else text).split()).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]


def _tree_lines(tree: dict[str, Any], depth: int = 0) -> list[str]:
    direct = ", ".join(f"{t} ×{n}" if n > 1 else t for t, n in tree["direct"].items())
    count = tree["resources"]
    line = f"{'  ' * depth}- **{tree['name']}** `{tree['type']}`: {count} resource{'s' if count != 1 else ''}"
    lines = [line + (f" (direct: {direct})" if direct else "")]
    for child in tree["children"]:
        lines.extend(_tree_lines(child, depth + 1))
    return lines


def _anchor(stack: str) -> str:
    return "stack-" + "".join(c if c.isalnum() or c == "-" else "-" for c in stack.lower())


def _link(stack: str) -> str:
    return f"[`{stack}`](#{_anchor(stack)})"


def _stack_section(stack: dict[str, Any]) -> list[str]:
    where = f"{stack['role']} · {stack['cloud']} {stack['region']} · {stack['regime']}"
    ships = f" · ships to `{stack['hub']}`" if stack["hub"] else ""
    lines = [f'<a id="{_anchor(stack["name"])}"></a>', "", f"### `{stack['name']}` ({where}{ships})", ""]
    if stack["status"] == "waiting":
        lines += [f"> **waiting:** {_cell(stack['waiting'])} (it declares only its key and certificate request)", ""]
    elif stack["status"] != "ok":
        verb = "not previewed" if stack["status"] == "skipped" else "program failed"
        lines += [f"> **{verb}:** {_cell(stack['error'])}", ""]
    lines += [f"{stack['resources']} resources, {stack['components']} components.", ""]
    if stack["tree"]:
        lines += _tree_lines(stack["tree"]) + [""]
    if stack["violations"]:
        rows = [(v["enforcement"], v["policy"], f"`{_name(v['urn'] or '')}`", v["finding"], v["remediation"] or "")
                for v in stack["violations"]]
        lines += _table(("level", "policy", "resource", "finding", "remediation"), rows) + [""]
    elif stack["status"] != "skipped":
        lines += ["No policy violations.", ""]
    return lines


def _deletion_lines(hubs: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["## Deletion capability (GDPR Art. 17, CCPA §1798.105)", "",
             "How one cluster's or data subject's data can be erased at each hub before it expires, "
             "and the retention that erases it in any case.", ""]
    signals = list(dict.fromkeys(c["signal"] for hub in hubs for c in hub["signals"]))
    rows = []
    for hub in hubs:
        by_signal = {c["signal"]: c for c in hub["signals"]}
        rows.append([f"`{hub['hub']}` ({hub['regime']}, {hub['tier']})"] + [
            f"{c['backend']}: **{c['status']}** ({c['evidence']}); retention {c['retention_days']} d"
            for c in (by_signal[s] for s in signals)
        ])
    lines += _table(["hub", *signals], rows) + [""]
    mechanisms = {(c["backend"], c["mechanism"], c["scope"]) for hub in hubs for c in hub["signals"]}
    lines += _table(("backend", "erasure request", "erases"), [(b, f"`{m}`", e) for b, m, e in sorted(mechanisms)])
    return lines


def _findings_lines(findings: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["## Findings", ""]
    if not findings:
        return lines + ["None: no policy violation, no failed program, no erasure gap.", ""]
    for f in findings:
        where = f" `{f['resource']}`" if f["resource"] else ""
        lines.append(f"- **{f['level']}** {_link(f['stack'])} {f['source']}{where}: {_cell(f['text'])}")
    return lines + [""]


def _attention(stack: dict[str, Any]) -> tuple:
    """Failed and not-previewed stacks first, then by mandatory, then advisory violations."""
    return (stack["status"] == "ok", -stack["mandatory"], -stack["advisory"])


def _provenance_line(report: dict[str, Any]) -> str:
    policies = report["policies"]
    passed = [p["name"] for p in policies if p["passed"]]
    failed = [p["name"] for p in policies if not p["passed"]]
    run = f"{len(policies)} policies run, {len(passed)} passed" + (f" (violated: {', '.join(failed)})" if failed else "")
    return (f"Generated {report['generatedAt'] or 'at an unknown time'} from commit `{report['commit'] or 'unknown'}` "
            f"with policy pack `{report['packVersion'] or 'unknown'}`; {run}.")


def _hub_lines(hub: dict[str, Any]) -> list[str]:
    lines = [f"### {_link(hub['hub'])}", ""]
    if hub["endpoints"]:
        lines += _table(("signal", "ingest endpoint"), [(k, f"`{v}`") for k, v in hub["endpoints"].items()]) + [""]
    if hub["certificates"]:
        lines += _table(("certificate", "role", "expires"),
                        [(c["name"], c["role"], c["notAfter"]) for c in hub["certificates"]]) + [""]
    lines += _table(("release", "chart", "version"),
                    [(f"`{c['release']}`", c["chart"], c["version"]) for c in hub["charts"]]) + [""]
    sizing = hub["sizing"]
    shared = "" if sizing["tenantIsolation"] else " (**no tenant isolation**: its edges share one Prometheus)"
    lines += [f"Metrics tier **{sizing['tier']}**{shared}: {sizing['series']} series, ~{sizing['samplesPerSecond']} "
              f"samples/s, out-of-order window {sizing['outOfOrderWindow']}.", ""]
    lines += _table(("component", "replicas", "CPU", "memory", "disk"),
                    [(c["component"], c["replicas"], f"{c['cpuMillicores']}m", f"{c['memoryMiB']} MiB",
                      f"{c['diskGiB']} GiB") for c in sizing["components"]]) + [""]
    rows = []
    for e in sizing["edges"]:
        if not e["sized"]:
            rows.append((f"`{e['edge']}`", e["seriesEstimate"], f"{e['bufferHours']:g} h", "not in this review", "", "", ""))
            continue
        queue = e["queue"]
        sends = (f"vmagent, {queue['queues']} queue{'s' if queue['queues'] != 1 else ''}" if "queues" in queue else
                 f"{queue['capacity']} × {queue['maxShards']} shards, {queue['maxSamplesPerSend']}/send")
        rows.append((f"`{e['edge']}`", e["seriesEstimate"], f"{e['bufferHours']:g} h", sends,
                     f"{e['walVolumeGiB']} GiB ({e['walRetention']})", f"{e['memoryRequestMiB']}-{e['memoryLimitMiB']} MiB",
                     f"{e['cpuRequestMillicores']}m"))
    lines += _table(("edge", "series", "buffer", "queue", "WAL", "memory", "CPU"), rows) + [""]
    if hub["buckets"]:
        lines += _table(("bucket", "controls", "policy violations"),
                        [(f"`{b['bucket']}`", ", ".join(b["controls"]) or "none", ", ".join(b["violations"]) or "none")
                         for b in hub["buckets"]]) + [""]
    return lines


def markdown(report: dict[str, Any]) -> str:
    s = report["summary"]
    verdict = {ExitCode.OK: "clean", ExitCode.VIOLATION: "mandatory policy violations", ExitCode.ERROR: "programs failed"}
    lines = [
        f"# {report['project']} fleet review",
        "",
        f"**{verdict[s['exitCode']]}**: {summary_text(report)}.",
        "",
        _provenance_line(report),
        "",
    ]
    lines += _findings_lines(report["findings"])
    lines += ["## Fleet", ""]
    lines += _table(
        ("stack", "role", "cloud / region", "regime", "resources", "mandatory", "advisory", "status"),
        [(_link(t["name"]), t["role"], f"{t['cloud']} {t['region']}", t["regime"], t["resources"],
          t["mandatory"], t["advisory"], t["status"]) for t in sorted(report["stacks"], key=_attention)],
    )
    residency = report["residency"]
    lines += ["", "## Residency map", "", residency["crossingsDefined"], "", residency["legend"], "",
              "```mermaid", residency["mermaid"].rstrip("\n"), "```", ""]
    crossings = [f for f in residency["flows"] if f["crossing"]]
    if crossings:
        lines += ["Residency crossings:", ""] + [f"- {_cell(f['reason'])}" for f in crossings] + [""]
    lines += ["## Hubs", ""]
    for hub in report["hubs"]:
        lines += _hub_lines(hub)
    lines += _deletion_lines(report["deletion"])
    if report["edgeAgents"]:
        header, rows = agent_sizing.markdown_rows(report["edgeAgents"])
        lines += ["", "## Edge metrics agents", "",
                  "Per edge, the sized footprint of the agent it runs (`obsfleet:agent`) and of the other one.", ""]
        lines += _table(header, rows)
    lines += ["", "## Stacks", ""]
    for stack in report["stacks"]:
        lines += _stack_section(stack)
    return "\n".join(lines).rstrip("\n") + "\n"
