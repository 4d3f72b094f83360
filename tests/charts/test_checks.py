"""The chart checks catch what they are for: each is fed a broken input (with real helm, real charts
and real promtool where the check uses them) and must report it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import yaml

from tests.charts import checks
from tests.charts.fleet import all_releases, rendered
from tests.charts.render import Release, RenderError, missing_reason, render


def _release(stack: str, chart: str) -> Release:
    [release] = [r for r in all_releases() if r.stack == stack and r.chart == chart]
    reason = missing_reason(release)
    if reason:
        pytest.skip(reason)
    return release


def test_a_nulled_jaeger_receiver_fails_the_tempo_render() -> None:
    # A nulled receiver: the chart reads the Jaeger protocols unconditionally, so the render fails.
    release = dataclasses.replace(_release("hub-us", "tempo"), value_files=("tempo:\n  receivers:\n    jaeger: null\n",))
    with pytest.raises(RenderError, match=r"nil pointer evaluating interface \{\}\.protocols"):
        render(release)


def test_a_mesh_without_the_charts_config_mounts_what_nobody_declares() -> None:
    release = _release("edge-eu", "cilium")
    values = release.values
    del values["clustermesh"]["config"]
    objects = render(dataclasses.replace(release, values_json=json.dumps(values, sort_keys=True)))
    problems = checks.reference_problems(objects, release.namespace, checks.available(objects, release.namespace))
    assert "Deployment clustermesh-apiserver: ConfigMap kube-system/clustermesh-remote-users is neither rendered " \
        "nor declared by the stack" in problems


def test_a_secret_only_a_hook_creates_counts_only_with_the_hook() -> None:
    release = _release("hub", "kube-prometheus-stack")
    objects = render(release)
    admission = checks.Ref("Secret", release.namespace, "obsfleet-admission")
    assert admission in checks.hook_created(objects, release.namespace)
    without_hooks = [o for o in objects if o["kind"] != "Job"]
    assert admission not in checks.hook_created(without_hooks, release.namespace)
    problems = checks.reference_problems(objects, release.namespace, checks.available(objects, release.namespace))
    assert any("obsfleet-admission" in p for p in problems)


def _deployment(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
            "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x", **container}]}}},
    }


def test_schemas_refuse_unknown_fields_and_kinds_without_a_crd() -> None:
    _release("hub", "kube-prometheus-stack")
    crds = rendered("hub").crds()
    good = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "m"},
            "spec": {"selector": {}, "endpoints": [{"port": "web", "interval": "30s"}]}}
    monitor = yaml.safe_load(json.dumps(good).replace('"interval"', '"intervall"'))
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert checks.schema_problems([_deployment(), good], crds) == []
    problems = checks.schema_problems([_deployment(imagee="x"), monitor, unknown], crds)
    assert len(problems) == 3, problems
    assert "'imagee' was unexpected" in problems[0]
    assert problems[1].startswith("ServiceMonitor m: spec.endpoints.0: ") and "'intervall' was unexpected" in problems[1]
    assert problems[2] == "Widget w: no schema for example.com/v1 Widget (no chart ships its CRD)"


def test_the_kafka_crds_refuse_a_misspelled_listener_and_a_pool_without_roles() -> None:
    _release("hub", "strimzi-kafka-operator")
    result = rendered("hub")
    crds = result.crds()
    declared = {o["kind"]: o for o in result.declared_objects if str(o.get("apiVersion")).startswith("kafka.strimzi.io/")}
    assert checks.schema_problems([declared["Kafka"], declared["KafkaNodePool"]], crds) == []
    kafka = json.loads(json.dumps(declared["Kafka"]).replace('"networkPolicyPeers"', '"networkPolicyPeer"'))
    pool = json.loads(json.dumps(declared["KafkaNodePool"]))
    del pool["spec"]["roles"]
    problems = checks.schema_problems([kafka, pool], crds)
    assert len(problems) == 2, problems
    assert problems[0].startswith("Kafka traces: spec.kafka.listeners.0: ") and "'networkPolicyPeer' was unexpected" in problems[0]
    assert "'roles' is a required property" in problems[1]


def test_a_kafka_the_stack_declares_provides_the_operators_services() -> None:
    kafka = {"apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": "traces", "namespace": "obs"}}
    topic = {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {"name": "t", "namespace": "obs"}}
    values = {"address": "traces-kafka-bootstrap.obs.svc.cluster.local:9092"}
    assert checks.service_host_problems(values, checks.operator_services([kafka], "default")) == []
    assert checks.service_host_problems(values, checks.operator_services([topic], "default")) == [
        "traces-kafka-bootstrap.obs.svc: no such Service in the stack"
    ]


def test_only_the_root_ca_config_map_is_taken_as_published_by_kubernetes() -> None:
    deployment = _deployment()
    deployment["spec"]["template"]["spec"]["volumes"] = [
        {"name": "token", "projected": {"sources": [{"configMap": {"name": "kube-root-ca.crt"}}, {"configMap": {"name": "ca"}}]}},
    ]
    assert checks.reference_problems([deployment], "ns", set()) == [
        "Deployment d: ConfigMap ns/ca is neither rendered nor declared by the stack"
    ]


def test_every_kind_of_pod_reference_is_followed() -> None:
    deployment = _deployment(
        envFrom=[{"secretRef": {"name": "env-secret"}}, {"configMapRef": {"name": "env-map", "optional": True}}],
        env=[{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "key-map", "key": "k"}}}],
    )
    deployment["spec"]["template"]["spec"]["volumes"] = [
        {"name": "a", "secret": {"secretName": "vol-secret"}},
        {"name": "b", "projected": {"sources": [{"configMap": {"name": "projected-map"}}]}},
    ]
    refs = {str(r) for r in checks.pod_refs(deployment, "ns")}
    assert refs == {"Secret ns/env-secret", "ConfigMap ns/key-map", "Secret ns/vol-secret", "ConfigMap ns/projected-map"}
    present = {checks.Ref("Secret", "ns", "env-secret"), checks.Ref("ConfigMap", "ns", "key-map")}
    assert len(checks.reference_problems([deployment], "ns", present)) == 2


def test_a_service_host_the_stack_does_not_render_is_reported() -> None:
    tempo = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tempo"}}
    present = checks.available([tempo], "observability")
    values = {"url": "http://tempo.observability.svc.cluster.local:3200", "x": ["nosuch.observability.svc:80"]}
    assert checks.service_host_problems(values, present) == ["nosuch.observability.svc: no such Service in the stack"]


def test_promtool_refuses_a_broken_rule() -> None:
    if checks.promtool() is None:
        pytest.skip("promtool not installed (tests/run.sh installs the Debian prometheus package)")
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "r"},
            "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "sum(up"}]}]}}
    [problem] = checks.rule_problems([rule])
    assert problem.startswith("PrometheusRule r: ")
    good = yaml.safe_load(yaml.safe_dump(rule).replace("sum(up", "sum(up) == 0"))
    assert checks.rule_problems([good]) == []


def test_an_incomplete_collector_pipeline_is_reported() -> None:
    config = {
        "receivers": {"otlp": {}, "filelog": {}},
        "processors": {"batch": {}},
        "exporters": {"otlphttp": {}},
        "extensions": {"file_storage": {}},
        "service": {"extensions": ["health_check"], "pipelines": {
            "traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlphttp", "debug"]},
            "logs": {"receivers": ["otlp"], "exporters": []},
        }},
    }
    assert checks.pipeline_problems("c", config) == [
        "c: pipeline logs has no exporters",
        "c: pipeline traces uses undefined exporter debug",
        "c: service uses undefined extension health_check",
        "c: receiver filelog is defined but never used",
        "c: extension file_storage is defined but never used",
    ]


def _fences(stack: str) -> tuple[list[dict[str, Any]], list[checks.Pod]]:
    result = rendered(stack)
    if result.absent or result.errors:
        pytest.skip(f"not every release of {stack} renders here")
    return [o for o in result.declared_objects if o["kind"] == "NetworkPolicy"], result.pods()


def test_a_fence_on_a_label_no_chart_puts_on_its_pods_is_reported() -> None:
    policies, running = _fences("hub-us")
    [tempo] = [p for p in policies if p["metadata"]["name"] == "obsfleet-fence-tempo"]
    assert checks.selector_problems([tempo], running, "default") == []
    # The chart's name, which tempo's chart does not use as its pods' name label.
    wrong = {**tempo, "spec": {**tempo["spec"], "podSelector": {"matchLabels": {"app.kubernetes.io/name": "tempo-distributed"}}}}
    assert checks.selector_problems([wrong], running, "default") == [
        'NetworkPolicy obsfleet-fence-tempo fences {"matchLabels": {"app.kubernetes.io/name": "tempo-distributed"}}: '
        "no pod of the stack in observability matches"
    ]


def test_the_hub_prometheus_is_found_only_among_the_pods_the_operator_runs() -> None:
    policies, running = _fences("hub-us")
    [fence] = [p for p in policies if p["metadata"]["name"] == "obsfleet-fence-prometheus"]
    assert checks.selector_problems([fence], running, "default") == []
    templates_only = [pod for pod in running if pod.labels.get("app.kubernetes.io/managed-by") != "prometheus-operator"]
    problems = checks.selector_problems([fence], templates_only, "default")
    assert [p.split(": no pod")[0] for p in problems] == [
        'NetworkPolicy obsfleet-fence-prometheus fences {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}',
        'NetworkPolicy obsfleet-fence-prometheus admits (ingress) {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}',
    ]


def test_a_peer_in_another_namespace_does_not_count() -> None:
    pod = checks.Pod("elsewhere", {"app": "x"})
    policy = {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "here"},
              "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "x"}}}]}]}}
    assert len(checks.selector_problems([policy], [pod, checks.Pod("here", {})], "default")) == 1


@pytest.mark.parametrize("term, selected", [
    ({"key": "tier", "operator": "In", "values": ["a", "b"]}, True),
    ({"key": "tier", "operator": "In", "values": ["b"]}, False),
    ({"key": "tier", "operator": "NotIn", "values": ["b"]}, True),
    ({"key": "tier", "operator": "NotIn", "values": ["a"]}, False),
    ({"key": "tier", "operator": "Exists"}, True),
    ({"key": "zone", "operator": "Exists"}, False),
    ({"key": "zone", "operator": "DoesNotExist"}, True),
    ({"key": "tier", "operator": "DoesNotExist"}, False),
])
def test_selector_expressions_follow_kubernetes(term: dict[str, Any], selected: bool) -> None:
    labels = {"app": "x", "tier": "a"}
    assert checks.selects({"matchLabels": {"app": "x"}, "matchExpressions": [term]}, labels) is selected
    assert checks.selects({"matchLabels": {"app": "y"}, "matchExpressions": [term]}, labels) is False
