"""Validations of rendered manifests; each returns the problems it finds, one line each.

- `schema_problems`: built-in kinds against the Kubernetes OpenAPI schemas (strict: an unknown
  field is an error, not silently dropped), custom resources against the CRDs the charts ship
  (strict as well, unless the CRD keeps unknown fields).
- `reference_problems`: every Secret and ConfigMap a pod (or a prometheus-operator object that
  describes pods) refers to exists: rendered by the stack or declared by it.
- `service_host_problems`: every `<service>.<namespace>.svc` host in the values is a Service the
  stack renders or declares, or one an operator creates for a custom resource the stack declares
  (`operator_services`).
- `rule_problems`: `promtool check rules` on every PrometheusRule.
- `pipeline_problems`: every OpenTelemetry Collector configuration the stack renders uses each
  component it defines and defines each component it uses.
- `selector_problems`: every pod selector of a NetworkPolicy (the pods it fences and the peers it
  admits) selects at least one pod the stack runs: a selector matching nothing fences nothing, or
  shuts out a peer that was meant to get in.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import jsonschema
import kubernetes_validate
import yaml

from tests.charts.render import KUBE_VERSION, Loader

CRD_KIND = "CustomResourceDefinition"
POD_TEMPLATES = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
OPERATOR_GROUP = "monitoring.coreos.com"
"""prometheus-operator objects name Secrets/ConfigMaps the operator mounts into the pods it runs."""
OPERATOR_PODS = {"Prometheus": "prometheus", "Alertmanager": "alertmanager", "PrometheusAgent": "prometheus-agent"}
"""Custom resources prometheus-operator runs pods for, and the `app.kubernetes.io/name` it gives them."""
OPERATOR_KIND_LABEL = {"Prometheus": "prometheus", "Alertmanager": "alertmanager"}
"""The label these pods also carry with the resource's name (agents have none)."""
SERVICE_HOST = re.compile(r"\b([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.svc\b")
PIPELINE_KINDS = ("receivers", "processors", "exporters", "connectors")


@dataclass(frozen=True)
class Ref:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def label(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return f"{obj.get('kind')} {metadata.get('name')}"


def namespace_of(obj: dict[str, Any], default: str) -> str:
    return (obj.get("metadata") or {}).get("namespace") or default


# --- schemas ----------------------------------------------------------------------------------------


def crd_schemas(objects: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the JSON Schema of that custom resource, from every CRD in `objects`."""
    schemas = {}
    for obj in objects:
        if obj.get("kind") != CRD_KIND:
            continue
        spec = obj["spec"]
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if schema:
                schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = _strict(schema, root=True)
    return schemas


def _strict(node: Any, root: bool = False) -> Any:
    """An OpenAPI v3 structural schema as JSON Schema: `nullable` allows null, and an object with
    declared properties takes no other field (the API server would prune it silently)."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict(value) for key, value in node.items() if key != "properties"}
    if "properties" in node:
        out["properties"] = {key: _strict(value) for key, value in node["properties"].items()}
        keeps_unknown = node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node
        if not root and not keeps_unknown:
            out["additionalProperties"] = False
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"]
    return out


def schema_problems(objects: Iterable[dict[str, Any]], crds: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    problems = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
            continue
        except kubernetes_validate.SchemaNotFoundError:
            pass
        except kubernetes_validate.ValidationError as err:
            problems.append(f"{label(obj)}: {_where(err)}{err.message}")
            continue
        schema = crds.get((obj.get("apiVersion"), obj.get("kind")))
        if schema is None:
            problems.append(f"{label(obj)}: no schema for {obj.get('apiVersion')} {obj.get('kind')} (no chart ships its CRD)")
            continue
        body = {key: value for key, value in obj.items() if key != "metadata"}
        for err in sorted(jsonschema.Draft7Validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path)):
            problems.append(f"{label(obj)}: {_where(err)}{err.message}")
    return problems


def _where(err: Any) -> str:
    path = ".".join(str(p) for p in getattr(err, "absolute_path", []) or [])
    return f"{path}: " if path else ""


# --- Secret / ConfigMap references ------------------------------------------------------------------


def available(objects: Iterable[dict[str, Any]], namespace: str) -> set[Ref]:
    """The Secrets, ConfigMaps and Services among `objects` (those without a namespace in `namespace`)."""
    return {
        Ref(obj["kind"], namespace_of(obj, namespace), obj["metadata"]["name"])
        for obj in objects
        if obj.get("kind") in ("Secret", "ConfigMap", "Service") and (obj.get("metadata") or {}).get("name")
    }


STRIMZI_KAFKA = ("kafka.strimzi.io", "Kafka")
STRIMZI_SERVICES = ("kafka-bootstrap", "kafka-brokers")
"""The Services the Strimzi operator creates for each Kafka resource: `<cluster>-<suffix>`."""


def operator_services(objects: Iterable[dict[str, Any]], namespace: str) -> set[Ref]:
    """Services an operator creates for the custom resources among `objects` (Strimzi's Kafka)."""
    found = set()
    for obj in objects:
        group = str(obj.get("apiVersion", "")).split("/")[0]
        if (group, obj.get("kind")) == STRIMZI_KAFKA:
            name = obj["metadata"]["name"]
            found |= {Ref("Service", namespace_of(obj, namespace), f"{name}-{suffix}") for suffix in STRIMZI_SERVICES}
    return found


def pod_refs(obj: dict[str, Any], namespace: str) -> Iterator[Ref]:
    """The required Secrets and ConfigMaps the pods of `obj` mount or read (volumes, projected
    sources, envFrom, env valueFrom); for prometheus-operator objects also their secret key
    selectors and `secrets` / `configMaps` / `configSecret` names."""
    ns = namespace_of(obj, namespace)
    kind = obj.get("kind")
    operator = str(obj.get("apiVersion", "")).startswith(OPERATOR_GROUP + "/")
    if kind in POD_TEMPLATES:
        node: Any = obj
        for key in POD_TEMPLATES[kind]:
            node = (node or {}).get(key)
        yield from _refs(node or {}, ns)
    elif operator:
        spec = obj.get("spec") or {}
        yield from _refs(spec, ns)
        for name in spec.get("secrets") or []:
            yield Ref("Secret", ns, name)
        for name in spec.get("configMaps") or []:
            yield Ref("ConfigMap", ns, name)
        if isinstance(spec.get("configSecret"), str) and spec["configSecret"]:
            yield Ref("Secret", ns, spec["configSecret"])


def _refs(node: Any, ns: str) -> Iterator[Ref]:
    if isinstance(node, list):
        for item in node:
            yield from _refs(item, ns)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if isinstance(value, dict) and not value.get("optional"):
            if key == "secret" and (value.get("secretName") or value.get("name")):
                yield Ref("Secret", ns, value.get("secretName") or value["name"])
            elif key in ("secretRef", "secretKeyRef", "keySecret") and value.get("name"):
                yield Ref("Secret", ns, value["name"])
            elif key in ("configMap", "configMapRef", "configMapKeyRef") and value.get("name"):
                yield Ref("ConfigMap", ns, value["name"])
        yield from _refs(value, ns)


def hook_created(objects: Iterable[dict[str, Any]], namespace: str) -> set[Ref]:
    """Secrets a pre-install hook Job of the release creates, told their name with `--secret-name`
    (kube-webhook-certgen, which charts use for their admission webhooks' certificates)."""
    created = set()
    for obj in objects:
        hooks = ((obj.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
        if obj.get("kind") != "Job" or "pre-install" not in hooks.split(","):
            continue
        for container in obj["spec"]["template"]["spec"].get("containers") or []:
            args = [str(a) for a in container.get("args") or []]
            target = next((a.split("=", 1)[1] for a in args if a.startswith("--namespace=")), namespace_of(obj, namespace))
            created |= {Ref("Secret", target, a.split("=", 1)[1]) for a in args if a.startswith("--secret-name=")}
    return created


CLUSTER_PUBLISHED = {("ConfigMap", "kube-root-ca.crt")}
"""Objects Kubernetes itself keeps in every namespace (the root CA publisher's ConfigMap, which
projected service-account volumes mount)."""


def reference_problems(objects: Iterable[dict[str, Any]], namespace: str, present: set[Ref]) -> list[str]:
    problems = []
    for obj in objects:
        for ref in dict.fromkeys(pod_refs(obj, namespace)):
            if ref not in present and (ref.kind, ref.name) not in CLUSTER_PUBLISHED:
                problems.append(f"{label(obj)}: {ref} is neither rendered nor declared by the stack")
    return problems


# --- service hosts ----------------------------------------------------------------------------------


def service_hosts(values: Any) -> set[tuple[str, str]]:
    """(service, namespace) of every `<service>.<namespace>.svc` host in the strings of `values`."""
    found: set[tuple[str, str]] = set()
    if isinstance(values, dict):
        for value in values.values():
            found |= service_hosts(value)
    elif isinstance(values, list):
        for value in values:
            found |= service_hosts(value)
    elif isinstance(values, str):
        found |= {(m.group(1), m.group(2)) for m in SERVICE_HOST.finditer(values)}
    return found


def service_host_problems(values: Any, present: set[Ref]) -> list[str]:
    return [
        f"{service}.{namespace}.svc: no such Service in the stack"
        for service, namespace in sorted(service_hosts(values))
        if Ref("Service", namespace, service) not in present
    ]


# --- PrometheusRule ---------------------------------------------------------------------------------


def promtool() -> Optional[str]:
    return shutil.which("promtool")


def rule_problems(objects: Iterable[dict[str, Any]]) -> list[str]:
    binary = promtool()
    assert binary, "promtool is not installed"
    problems = []
    for obj in objects:
        if obj.get("kind") != "PrometheusRule" or not str(obj.get("apiVersion", "")).startswith(OPERATOR_GROUP):
            continue
        with tempfile.TemporaryDirectory(prefix="obsfleet-rules-") as tmp:
            path = Path(tmp) / "rules.yaml"
            path.write_text(yaml.safe_dump({"groups": (obj.get("spec") or {}).get("groups") or []}))
            done = subprocess.run([binary, "check", "rules", str(path)], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            detail = " ".join((done.stderr or done.stdout).strip().replace(str(path), "rules").splitlines())
            problems.append(f"{label(obj)}: {detail}")
    return problems


# --- OpenTelemetry Collector pipelines ---------------------------------------------------------------


def collector_configs(objects: Iterable[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, config) of every collector configuration in a rendered ConfigMap."""
    for obj in objects:
        if obj.get("kind") != "ConfigMap":
            continue
        for key, text in (obj.get("data") or {}).items():
            try:
                config = yaml.load(text, Loader=Loader)
            except yaml.YAMLError:
                continue
            if isinstance(config, dict) and isinstance((config.get("service") or {}).get("pipelines"), dict):
                yield f"{label(obj)} {key}", config


def pipeline_problems(where: str, config: dict[str, Any]) -> list[str]:
    service = config.get("service") or {}
    defined = {kind: set(config.get(kind) or {}) for kind in PIPELINE_KINDS}
    defined["extensions"] = set(config.get("extensions") or {})
    used: dict[str, set[str]] = {kind: set() for kind in defined}
    problems = []
    for name, pipeline in sorted((service.get("pipelines") or {}).items()):
        for kind in ("receivers", "processors", "exporters"):
            names = list((pipeline or {}).get(kind) or [])
            if kind != "processors" and not names:
                problems.append(f"{where}: pipeline {name} has no {kind}")
            for component in names:
                # A connector is an exporter of one pipeline and a receiver of another.
                home = "connectors" if kind != "processors" and component in defined["connectors"] else kind
                used[home].add(component)
                if component not in defined[home]:
                    problems.append(f"{where}: pipeline {name} uses undefined {kind[:-1]} {component}")
    for extension in service.get("extensions") or []:
        used["extensions"].add(extension)
        if extension not in defined["extensions"]:
            problems.append(f"{where}: service uses undefined extension {extension}")
    for kind, names in defined.items():
        for component in sorted(names - used[kind]):
            problems.append(f"{where}: {kind[:-1]} {component} is defined but never used")
    return problems


# --- NetworkPolicy selectors -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]


def pods(objects: Iterable[dict[str, Any]], namespace: str) -> list[Pod]:
    """The pods `objects` run: their pod templates, and the pods prometheus-operator runs for its
    resources (its labels on every such pod, then the resource's `podMetadata.labels`)."""
    found = []
    for obj in objects:
        kind = obj.get("kind")
        ns = namespace_of(obj, namespace)
        if kind in POD_TEMPLATES:
            node: Any = obj
            for key in POD_TEMPLATES[kind][:-1]:
                node = (node or {}).get(key)
            labels = ((node or {}).get("metadata") or {}).get("labels") or {}
        elif kind in OPERATOR_PODS and str(obj.get("apiVersion", "")).startswith(OPERATOR_GROUP + "/"):
            name = obj["metadata"]["name"]
            labels = {
                "app.kubernetes.io/name": OPERATOR_PODS[kind],
                "app.kubernetes.io/instance": name,
                "app.kubernetes.io/managed-by": "prometheus-operator",
                "operator.prometheus.io/name": name,
                **({OPERATOR_KIND_LABEL[kind]: name} if kind in OPERATOR_KIND_LABEL else {}),
                **(((obj.get("spec") or {}).get("podMetadata") or {}).get("labels") or {}),
            }
        else:
            continue
        found.append(Pod(ns, {str(k): str(v) for k, v in labels.items()}))
    return found


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics: every matchLabels pair and every matchExpressions term."""
    if any(labels.get(k) != str(v) for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for term in selector.get("matchExpressions") or []:
        key, operator, values = term["key"], term["operator"], [str(v) for v in term.get("values") or []]
        present = key in labels
        held = {
            "In": present and labels[key] in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }
        if not held[operator]:
            return False
    return True


def policy_selectors(policy: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(role, selector) of the policy's own pods and of every same-namespace pod peer it names."""
    spec = policy.get("spec") or {}
    yield "fences", spec.get("podSelector") or {}
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(direction) or []:
            for peer in rule.get(peers_key) or []:
                # A peer with a namespaceSelector may select pods of other namespaces: not judged here.
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    yield f"admits ({direction})", peer["podSelector"] or {}


def selector_problems(objects: Iterable[dict[str, Any]], running: list[Pod], namespace: str) -> list[str]:
    problems = []
    for obj in objects:
        if obj.get("kind") != "NetworkPolicy":
            continue
        ns = namespace_of(obj, namespace)
        for role, selector in policy_selectors(obj):
            if not any(pod.namespace == ns and selects(selector, pod.labels) for pod in running):
                problems.append(f"{label(obj)} {role} {json.dumps(selector, sort_keys=True)}: no pod of the stack in {ns} matches")
    return problems
