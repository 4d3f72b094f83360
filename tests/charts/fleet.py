"""The stacks whose releases the chart tests render: every stack file of the project, previewed
offline, per cloud a Mimir-tier variant of a hub (`scale.tier: mimir`), and a vmagent variant of
the first edge (`agent: vmagent`), and what each renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

from components.regions import Cloud
from components.settings import EdgeSettings, HubSettings
from review import engine, stacks
from review.fleet_review import preview_fleet
from tests.charts import checks
from tests.charts.render import (
    Release, RenderError, declared, declared_objects, load_all, missing_reason, releases, render,
)

MIMIR_SUFFIX = "-mimir"
EXTERNAL_TRACES_KAFKA = {"address": "kafka.obs.example.com:9092", "partitions": 6}
VMAGENT_SUFFIX = "-vmagent"


def _variant(stack: stacks.StackConfig, suffix: str, **config: Any) -> stacks.StackConfig:
    """`stack` with `config` (obsfleet: keys) changed, as its own stack."""
    document = yaml.safe_load(stack.path.read_text())
    values: dict[str, Any] = {
        **stacks.project_config(stack.path.parent), **document["config"], **{f"obsfleet:{k}": v for k, v in config.items()}
    }
    name = stack.name + suffix
    return stacks.from_values(name, stack.path.with_name(f"Pulumi.{name}.yaml"), values)


def mimir_variant(hub: stacks.StackConfig, external_kafka: bool) -> stacks.StackConfig:
    """`hub` with `scale.tier: mimir`, its traces on the hub's own Kafka or on an external one
    (`scale.tracesKafka`), as its own stack."""
    scale = {**(yaml.safe_load(hub.path.read_text())["config"].get("obsfleet:scale") or {}), "tier": "mimir"}
    if external_kafka:
        scale["tracesKafka"] = EXTERNAL_TRACES_KAFKA
    return _variant(hub, MIMIR_SUFFIX, scale=scale)


def vmagent_edge() -> stacks.StackConfig:
    """The first edge stack file with `agent: vmagent`."""
    edge = next(s for s in stacks.ordered(stacks.stack_names()) if isinstance(s.settings, EdgeSettings))
    return _variant(edge, VMAGENT_SUFFIX, agent="vmagent")


def mimir_hubs() -> list[stacks.StackConfig]:
    """One Mimir-tier hub per cloud, from the first hub stack file of that cloud: the first with an
    external traces Kafka, the others with their own."""
    hubs = [s for s in stacks.ordered(stacks.stack_names()) if isinstance(s.settings, HubSettings)]
    chosen = {}
    for hub in hubs:
        chosen.setdefault(hub.settings.cloud, hub)
    clouds = [cloud for cloud in Cloud if cloud in chosen]
    return [mimir_variant(chosen[cloud], external_kafka=index == 0) for index, cloud in enumerate(clouds)]


@lru_cache(maxsize=1)
def recordings() -> dict[str, engine.Recording]:
    """Every stack file previewed (hubs first), then the Mimir-tier hubs (signing the requests the
    same edges exported)."""
    fleet = preview_fleet(stacks.stack_names())
    found: dict[str, engine.Recording] = {r.stack: r for r in fleet}
    exported = {r.stack: (r.outputs, r.secret_outputs) for r in fleet}
    for hub in mimir_hubs():
        found[hub.name] = engine.preview(hub, exported)
    edge = vmagent_edge()
    found[edge.name] = engine.preview(edge, exported)
    return found


@lru_cache(maxsize=1)
def all_releases() -> tuple[Release, ...]:
    return tuple(release for name, recording in recordings().items() for release in releases(name, recording))


@dataclass
class Rendered:
    """One stack's releases rendered: the objects per release, or why a release is not."""

    stack: str
    objects: dict[Release, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[Release, str] = field(default_factory=dict)
    """helm template's refusal."""
    absent: dict[Release, str] = field(default_factory=dict)
    """Why a release cannot be rendered here (no helm, chart not cached)."""
    declared: list[dict[str, Any]] = field(default_factory=list)
    declared_objects: list[dict[str, Any]] = field(default_factory=list)
    """The objects the stack declares, whole (custom resources included)."""
    _crds: Optional[dict[tuple[str, str], dict[str, Any]]] = field(default=None, repr=False)

    def everything(self) -> list[dict[str, Any]]:
        return [obj for objs in self.objects.values() for obj in objs] + self.declared

    def present(self) -> set[checks.Ref]:
        """Secrets, ConfigMaps and Services the stack renders or declares."""
        found: set[checks.Ref] = set()
        for release, objects in self.objects.items():
            found |= checks.available(objects, release.namespace) | checks.hook_created(objects, release.namespace)
        return found | checks.available(self.declared, "default") | checks.operator_services(self.declared_objects, "default")

    def pods(self) -> list[checks.Pod]:
        """Every pod the stack runs: rendered, run by prometheus-operator, or declared."""
        found = [pod for release, objects in self.objects.items() for pod in checks.pods(objects, release.namespace)]
        return found + checks.pods(self.declared_objects, "default")

    def selector_problems(self) -> list[str]:
        running = self.pods()
        problems = [p for release, objects in self.objects.items() for p in checks.selector_problems(objects, running, release.namespace)]
        return problems + checks.selector_problems(self.declared_objects, running, "default")

    def crds(self) -> dict[tuple[str, str], dict[str, Any]]:
        if self._crds is None:
            self._crds = checks.crd_schemas(self.everything())
        return self._crds


def crd_api_versions(chart_dir: Path) -> set[str]:
    """group/version of every CRD in the chart's (and its sub-charts') crds/ folders: what the
    cluster serves once the stack's charts are installed (charts gate objects on them)."""
    versions = set()
    for path in chart_dir.rglob("crds/*.yaml"):
        for doc in load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == checks.CRD_KIND:
                spec = doc["spec"]
                versions |= {f"{spec['group']}/{v['name']}" for v in spec.get("versions") or []}
    return versions


@lru_cache(maxsize=None)
def rendered(stack: str) -> Rendered:
    recording = recordings()[stack]
    result = Rendered(stack, declared=declared(recording), declared_objects=declared_objects(recording))
    own = [r for r in all_releases() if r.stack == stack]
    api_versions: set[str] = set()
    for release in own:
        if missing_reason(release) is None:
            api_versions |= crd_api_versions(release.chart_dir)
    for release in own:
        reason = missing_reason(release)
        if reason:
            result.absent[release] = reason
            continue
        try:
            result.objects[release] = render(release, api_versions)
        except RenderError as err:
            result.errors[release] = str(err)
    return result

