"""What a hub asks of its cluster: pods, memory requests and volume claims, per tier.

Previews a hub stack (offline, as `python -m review preview` does), renders every Helm release it
declares with `helm template` from the local chart cache (docs/charts.md) and the exact values the
preview recorded (not the files of deleted chart defaults, which remove receivers, not
workloads), and adds the Kubernetes workloads the program declares itself (the front door) and
the pods Strimzi runs for its Kafka resources (the Mimir tier's traces Kafka).
It counts what is requested, not what runs: each container's memory request (its limit when it
sets no request, 0 when neither) times replicas, and each PersistentVolumeClaim template's size
times replicas. DaemonSets are per node and listed apart.

    python -m bench.hub_footprint --stack hub [--tier prometheus|mimir] [--helm PATH]

helm and the charts: as the chart tests find them (tests/charts/render.py, docs/charts.md).

`--tier` pins `obsfleet:scale.tier` on a copy of the stack file (the same edges and load), so the
two tiers of one hub compare on equal terms.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

from components.values.hub_common import merge
from labkit.helm import cache_dir, helm_binary
from labkit.scaled_hub import edge_requests
from review import engine
from review.stacks import load, project_root

RELEASE = "kubernetes:helm.sh/v3:Release"
WORKLOADS = {"Deployment", "StatefulSet"}
OPERATED = {"Prometheus", "Alertmanager"}
STRIMZI = "kubernetes:kafka.strimzi.io/"
ZONES = 3
UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "": 1}


def quantity(text: Any) -> int:
    """Bytes of a Kubernetes quantity (`512Mi`, `1G`, `1073741824`)."""
    match = re.fullmatch(r"([0-9.]+)([KMGT]i?|)", str(text).strip())
    if not match:
        raise ValueError(f"not a byte quantity: {text!r}")
    return int(float(match.group(1)) * UNITS[match.group(2)])


def from_values(chart: Path, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Workloads estimated from the chart's values.yaml merged with ours, for a chart whose templates
    are not in the cache: every top-level component explicitly `enabled` that has `replicas` or a
    volume runs that many pods (1 when unset; zone-aware ones at least one per zone, in whole
    zones) of its `resources` and `persistentVolume`/`persistence` size."""
    merged = merge(yaml.safe_load((chart / "values.yaml").read_text()), values)
    docs = []
    for name, component in merged.items():
        if not isinstance(component, dict) or component.get("enabled") is not True:
            continue
        if not {"replicas", "persistence", "persistentVolume"} & set(component):
            continue
        replicas = component.get("replicas") or 1
        if (component.get("zoneAwareReplication") or {}).get("enabled"):
            replicas = -(-replicas // ZONES) * ZONES
        volume = component.get("persistentVolume") or component.get("persistence") or {}
        size = volume.get("size") if volume.get("enabled", True) else None
        claims = [{"spec": {"resources": {"requests": {"storage": size}}}}] if size else []
        docs.append({
            "kind": "StatefulSet", "metadata": {"name": f"{name} (values)"},
            "spec": {"replicas": replicas, "volumeClaimTemplates": claims,
                     "template": {"spec": {"containers": [{"resources": component.get("resources") or {}}]}}},
        })
    return docs


def render(release: dict[str, Any], helm: Path, workdir: Path) -> list[dict[str, Any]]:
    inputs = release["inputs"]
    chart = cache_dir() / f"{inputs['chart']}-{inputs['version']}"
    if not (chart / "Chart.yaml").is_file():
        if (chart / "values.yaml").is_file():
            print(f"  ({inputs['chart']}: estimated from values.yaml, its templates are not in the cache)")
            return from_values(chart, inputs["values"])
        sys.exit(f"chart {inputs['chart']} {inputs['version']} is not in the cache {cache_dir()} (docs/charts.md)")
    # The release's values only: its files of deleted defaults remove receivers, not workloads.
    values = workdir / f"{inputs['chart']}.yaml"
    values.write_text(yaml.safe_dump(inputs["values"]))
    argv = [str(helm), "template", inputs["chart"], str(chart), "--namespace", inputs["namespace"],
            "--kube-version", "1.31.0", "-f", str(values)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"helm template {inputs['chart']}: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if isinstance(doc, dict)]


def _memory(container: dict[str, Any]) -> int:
    resources = container.get("resources") or {}
    value = (resources.get("requests") or {}).get("memory") or (resources.get("limits") or {}).get("memory")
    return quantity(value) if value else 0


def _operated(doc: dict[str, Any]) -> tuple[str, str, int, int, int]:
    """A Prometheus or Alertmanager resource: prometheus-operator runs it as a StatefulSet (its
    config-reloader sidecar not counted)."""
    spec = doc.get("spec") or {}
    memory = (spec.get("resources") or {}).get("requests", {}).get("memory") or (spec.get("resources") or {}).get("limits", {}).get("memory")
    template = ((spec.get("storage") or {}).get("volumeClaimTemplate") or {}).get("spec") or {}
    claim = (template.get("resources") or {}).get("requests", {}).get("storage")
    return (doc["kind"], doc["metadata"]["name"], int(spec.get("replicas") or 1),
            quantity(memory) if memory else 0, quantity(claim) if claim else 0)


def workloads(docs: list[dict[str, Any]]) -> Iterator[tuple[str, str, int, int, int]]:
    """(kind, name, replicas, memory bytes per pod, claimed bytes per pod) of every workload."""
    for doc in docs:
        kind = doc.get("kind")
        if kind in OPERATED:
            yield _operated(doc)
            continue
        if kind not in WORKLOADS and kind != "DaemonSet":
            continue
        spec = doc.get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        memory = sum(_memory(c) for c in pod.get("containers") or [])
        claims = sum(
            quantity(((t.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", 0))
            for t in spec.get("volumeClaimTemplates") or []
        )
        replicas = 1 if kind == "DaemonSet" else int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        yield kind, doc["metadata"]["name"], replicas, memory, claims


def strimzi_workloads(docs: list[dict[str, Any]]) -> Iterator[tuple[str, str, int, int, int]]:
    """The pods the Strimzi operator runs for the program's resources: each KafkaNodePool's nodes
    (its resources and volume) and a Kafka's entity operator (one pod of its operators' requests)."""
    for doc in docs:
        spec = doc.get("spec") or {}
        if doc.get("kind") == "KafkaNodePool":
            size = (spec.get("storage") or {}).get("size")
            yield "KafkaNodePool", doc["metadata"]["name"], int(spec.get("replicas") or 0), _memory(spec), quantity(size) if size else 0
        elif doc.get("kind") == "Kafka" and spec.get("entityOperator"):
            memory = sum(_memory(c) for c in spec["entityOperator"].values() if isinstance(c, dict))
            yield "Deployment", f"{doc['metadata']['name']}-entity-operator", 1, memory, 0


def footprint(result: engine.PreviewResult, helm: Path) -> dict[str, Any]:
    per_release: dict[str, dict[str, int]] = defaultdict(lambda: {"pods": 0, "memory": 0, "disk": 0})
    daemonsets: list[str] = []

    def count(row: str, replicas: int, memory: int, claims: int) -> None:
        per_release[row]["pods"] += replicas
        per_release[row]["memory"] += replicas * memory
        per_release[row]["disk"] += replicas * claims

    with tempfile.TemporaryDirectory() as tmp:
        for release in (r for r in result.resources if r["type"] == RELEASE):
            for kind, name, replicas, memory, claims in workloads(render(release, helm, Path(tmp))):
                if kind == "DaemonSet":
                    daemonsets.append(f"{name} ({memory / 2**20:.0f} MiB per node)")
                    continue
                count(release["inputs"]["chart"], replicas, memory, claims)
    own = [{"kind": r["type"].split(":")[-1], "spec": r["inputs"]["spec"], "metadata": r["inputs"]["metadata"]}
           for r in result.resources if r["type"] == "kubernetes:apps/v1:Deployment"]
    for _, _, replicas, memory, claims in workloads(own):
        count("obsfleet (front door)", replicas, memory, claims)
    operated = [r["inputs"] for r in result.resources if r["type"].startswith(STRIMZI)]
    for _, _, replicas, memory, claims in strimzi_workloads(operated):
        count("traces Kafka (Strimzi runs)", replicas, memory, claims)
    return {"releases": dict(per_release), "daemonsets": daemonsets}


def preview_hub(stack: str, tier: Optional[str]) -> engine.PreviewResult:
    """The hub previewed with the requests its edges export after their first run (it reads them)."""
    if tier is None:
        config = load(stack)
        return engine.preview(config, edge_requests(config))
    with tempfile.TemporaryDirectory() as tmp:
        for path in project_root().glob("Pulumi.*.yaml"):
            shutil.copy(path, tmp)
        path = Path(tmp) / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        document["config"]["obsfleet:scale"] = {"tier": tier}
        path.write_text(yaml.safe_dump(document))
        config = load(stack, Path(tmp))
        return engine.preview(config, edge_requests(config))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="hub")
    parser.add_argument("--tier", choices=["prometheus", "mimir"])
    parser.add_argument("--helm", type=Path, help="helm binary (default: PATH, or where tests/run.sh installs it)")
    args = parser.parse_args(argv)
    binary = helm_binary()
    helm = args.helm or (Path(binary) if binary else None)
    if helm is None:
        parser.error("no helm binary: pass --helm or run tests/run.sh once (docs/charts.md)")
    result = preview_hub(args.stack, args.tier)
    found = footprint(result, helm)
    tier = result.config.settings.tier.value  # type: ignore[union-attr]
    print(f"{args.stack} ({tier} tier): requested by chart")
    total = {"pods": 0, "memory": 0, "disk": 0}
    for chart, row in sorted(found["releases"].items()):
        print(f"  {chart:28} {row['pods']:3} pods  {row['memory'] / 2**30:7.2f} GiB memory  {row['disk'] / 2**30:7.0f} GiB disk")
        for key in total:
            total[key] += row[key]
    print(f"  {'total':28} {total['pods']:3} pods  {total['memory'] / 2**30:7.2f} GiB memory  {total['disk'] / 2**30:7.0f} GiB disk")
    print("  per node (DaemonSets): " + (", ".join(found["daemonsets"]) or "none"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
