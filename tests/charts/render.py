"""Helm releases as the program declares them, rendered with the real pinned charts.

The releases and their values come from the offline preview's recorded registrations
(`kubernetes:helm.sh/v3:Release` inputs), so what is rendered is what the program hands to the
provider: its values files, nulls included, then its `values` on top, as `helm template -f ... -f
...` merges them. The chart comes from the chart cache (tests/helm_reference.py, docs/charts.md),
helm from PATH or the file tests/run.sh installs. Renders are cached for the test session.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from labkit.helm import HELM_CACHE, cache_dir, helm_binary
from review.engine import Recording
from tests.helm_reference import WHY_ABSENT

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
KUBE_VERSION = "1.33.0"
"""The Kubernetes version the charts are rendered for and the objects validated against."""


class Loader(yaml.CSafeLoader):
    """YAML 1.1 as Kubernetes reads it, fast (libyaml); a bare `=` is a string, not PyYAML's
    `value` tag (CRD schemas list it among operators)."""


Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def load_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=Loader))


@dataclass(frozen=True)
class Release:
    """One `kubernetes:helm.sh/v3:Release` registration of a stack."""

    stack: str
    resource: str
    """The Pulumi resource name."""
    chart: str
    version: str
    namespace: str
    values_json: str
    """`values`, JSON with sorted keys (hashable)."""
    value_files: tuple[str, ...]
    """The texts of `valueYamlFiles`, in order."""
    helm_name: str

    @property
    def id(self) -> str:
        return f"{self.stack}/{self.chart}"

    @property
    def values(self) -> dict[str, Any]:
        return json.loads(self.values_json)

    @property
    def chart_dir(self) -> Path:
        return cache_dir() / f"{self.chart}-{self.version}"

    def all_values(self) -> list[Any]:
        """Every values document handed to Helm, files first."""
        return [yaml.load(text, Loader=Loader) for text in self.value_files] + [self.values]


def autoname(resource: str) -> str:
    """The Helm release name Pulumi generates for a Release without `name`: the resource name and a
    random 8-hex suffix (here derived from the name, so renders are reproducible)."""
    return f"{resource}-{hashlib.sha256(resource.encode()).hexdigest()[:8]}"


def releases(stack: str, recording: Recording) -> list[Release]:
    found = []
    for record in recording.resources:
        if record["type"] != RELEASE_TYPE:
            continue
        inputs = record["inputs"]
        resource = record["urn"].rsplit("::", 1)[1]
        files = tuple(asset["text"] for asset in inputs.get("valueYamlFiles") or [])
        found.append(
            Release(
                stack=stack,
                resource=resource,
                chart=inputs["chart"],
                version=inputs["version"],
                namespace=inputs.get("namespace") or "default",
                values_json=json.dumps(inputs.get("values") or {}, sort_keys=True),
                value_files=files,
                helm_name=inputs.get("name") or autoname(resource),
            )
        )
    return found


def declared(recording: Recording) -> list[dict[str, Any]]:
    """The Kubernetes objects the stack declares itself (`kubernetes:<group>/<version>:<Kind>`),
    as {kind, metadata: {name, namespace}}."""
    objects = []
    for record in recording.resources:
        kind_type = record["type"]
        if not kind_type.startswith("kubernetes:") or kind_type == RELEASE_TYPE:
            continue
        metadata = (record.get("inputs") or {}).get("metadata") or {}
        objects.append({"kind": kind_type.rsplit(":", 1)[1], "metadata": metadata})
    return objects


def declared_objects(recording: Recording) -> list[dict[str, Any]]:
    """The Kubernetes objects the stack declares itself, whole (their inputs are the object's fields,
    custom resources' included: apiVersion, kind, metadata, spec)."""
    return [
        dict(record["inputs"])
        for record in recording.resources
        if record["type"].startswith("kubernetes:") and record["type"] != RELEASE_TYPE and record.get("inputs")
    ]


class RenderError(Exception):
    """helm template refused the release (the message is helm's)."""


def missing_reason(release: Release) -> Optional[str]:
    """Why this release cannot be rendered here (no helm, chart not cached), or None."""
    if helm_binary() is None:
        return f"helm not on PATH nor at {HELM_CACHE} (tests/run.sh installs it)"
    if not (release.chart_dir / "Chart.yaml").is_file():
        why = next((w for c, w in WHY_ABSENT.items() if c.name == release.chart), "docs/charts.md says how to fill it")
        held = "only parts of" if release.chart_dir.is_dir() else "no"
        return f"{held} chart {release.chart}-{release.version} in the chart cache {cache_dir()} ({why})"
    return None


def render(release: Release, api_versions: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The release's manifests (CRDs of the chart's crds/ folders included); raises RenderError."""
    return [dict(m) for m in _render(release, tuple(sorted(api_versions)))]


@lru_cache(maxsize=None)
def _render(release: Release, api_versions: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    helm = helm_binary()
    assert helm is not None, missing_reason(release)
    with tempfile.TemporaryDirectory(prefix="obsfleet-render-") as tmp:
        args = [helm, "template", release.helm_name, str(release.chart_dir), "--namespace", release.namespace,
                "--kube-version", KUBE_VERSION, "--include-crds", "--skip-tests"]
        for version in api_versions:
            args += ["--api-versions", version]
        for index, text in enumerate([*release.value_files, release.values_json]):
            path = Path(tmp) / f"values-{index}.yaml"
            path.write_text(text)
            args += ["--values", str(path)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RenderError(" ".join(done.stderr.strip().splitlines()))
    return tuple(m for m in load_all(done.stdout) if isinstance(m, dict))
