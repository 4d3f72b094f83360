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
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from review import deletion, mermaid
from review.stacks import PROJECT, StackConfig

ROOT_TYPE = "pulumi:pulumi:Stack"
ENFORCEMENT_ORDER = ("mandatory", "advisory")  # what review/analyzer.py reports (remediate counts as mandatory)
REMEDIATION_MARK = " Remediation: "
EXIT_OK, EXIT_VIOLATION, EXIT_FAILED = 0, 1, 2


@dataclass
class StackOutcome:
    """One stack of the review: what it declared, what the pack found, and how its program ended."""

    config: StackConfig
    resources: list[dict[str, Any]] = field(default_factory=list)
    """Export records (secrets masked); for a failed program, what it declared before failing."""
    violations: list[Any] = field(default_factory=list)
    """The pack's findings: objects with policy, urn, enforcement, message."""
    error: Optional[str] = None
    seconds: float = 0.0
    previewed: bool = True
    """False when the stack was not run (its hub failed, so its StackReference has nothing to read)."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def status(self) -> str:
        if not self.previewed:
            return "skipped"
        return "failed" if self.error else "ok"


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
        "seconds": round(outcome.seconds, 3),
        "resources": kinds["resource"],
        "components": kinds["component"],
        "mandatory": levels["mandatory"],
        "advisory": levels["advisory"],
        "tree": component_tree(outcome.resources),
        "violations": violations,
    }


def _deletion_json(outcomes: Sequence[StackOutcome]) -> list[dict[str, Any]]:
    return [
        {
            "hub": o.name,
            "regime": o.config.settings.regime.value,
            "tier": o.config.settings.tier.value,
            "status": o.status,
            "signals": [c.to_json() for c in deletion.capabilities(o.config.settings, o.resources)],
        }
        for o in outcomes
        if o.config.is_hub
    ]


def build(outcomes: Sequence[StackOutcome]) -> dict[str, Any]:
    """The report document (report.json); `markdown(build(...))` is report.md."""
    stacks = [_stack_json(o) for o in outcomes]
    residency = mermaid.residency_map(outcomes)
    summary = {
        "stacks": len(stacks),
        "ok": sum(s["status"] == "ok" for s in stacks),
        "failed": sum(s["status"] == "failed" for s in stacks),
        "skipped": sum(s["status"] == "skipped" for s in stacks),
        "mandatory": sum(s["mandatory"] for s in stacks),
        "advisory": sum(s["advisory"] for s in stacks),
        "crossings": sum(f.crossing for f in residency.flows),
    }
    summary["exitCode"] = exit_code(summary)
    return {
        "project": PROJECT,
        "summary": summary,
        "stacks": stacks,
        "residency": {**residency.to_json(), "mermaid": mermaid.render(residency)},
        "deletion": _deletion_json(outcomes),
    }


def exit_code(summary: dict[str, Any]) -> int:
    if summary["mandatory"]:
        return EXIT_VIOLATION
    if summary["failed"] or summary["skipped"]:
        return EXIT_FAILED
    return EXIT_OK


def summary_text(report: dict[str, Any]) -> str:
    s = report["summary"]
    stopped = f", {s['failed']} failed" + (f", {s['skipped']} not previewed" if s["skipped"] else "")
    return (
        f"{s['stacks']} stacks ({s['ok']} ok{stopped}): {s['mandatory']} mandatory, "
        f"{s['advisory']} advisory violations, {s['crossings']} residency crossings"
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


def _stack_section(stack: dict[str, Any]) -> list[str]:
    where = f"{stack['role']} · {stack['cloud']} {stack['region']} · {stack['regime']}"
    ships = f" · ships to `{stack['hub']}`" if stack["hub"] else ""
    lines = [f"### `{stack['name']}` ({where}{ships})", ""]
    if stack["status"] != "ok":
        verb = "not previewed" if stack["status"] == "skipped" else "program failed"
        lines += [f"> **{verb}:** {_cell(stack['error'])}", ""]
    lines += [f"{stack['resources']} resources, {stack['components']} components, {stack['seconds']:.1f}s.", ""]
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
    lines = ["## Deletion capability (GDPR Art. 17)", "",
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


def markdown(report: dict[str, Any]) -> str:
    s = report["summary"]
    verdict = {EXIT_OK: "clean", EXIT_VIOLATION: "mandatory policy violations", EXIT_FAILED: "programs failed"}
    lines = [
        f"# {report['project']} fleet review",
        "",
        f"**{verdict[s['exitCode']]}**: {summary_text(report)}.",
        "",
    ]
    lines += _table(
        ("stack", "role", "cloud / region", "regime", "resources", "mandatory", "advisory", "status"),
        [(f"`{t['name']}`", t["role"], f"{t['cloud']} {t['region']}", t["regime"], t["resources"],
          t["mandatory"], t["advisory"], t["status"]) for t in report["stacks"]],
    )
    residency = report["residency"]
    lines += ["", "## Residency map", "",
              "One subgraph per jurisdiction; red arrows cross a residency boundary.", "",
              "```mermaid", residency["mermaid"].rstrip("\n"), "```", ""]
    crossings = [f for f in residency["flows"] if f["crossing"]]
    if crossings:
        lines += ["Boundary crossings:", ""] + [f"- {_cell(f['reason'])}" for f in crossings] + [""]
    lines += _deletion_lines(report["deletion"])
    lines += ["", "## Stacks", ""]
    for stack in report["stacks"]:
        lines += _stack_section(stack)
    return "\n".join(lines).rstrip("\n") + "\n"
