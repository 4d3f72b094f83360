"""The traces' own Kafka: the Strimzi operator's values and the custom resources it runs (KRaft).

Objects, all in the hub's namespace (components/traces_kafka.py declares them):
- the strimzi-kafka-operator release, watching its own namespace only;
- Kafka `traces` and two KafkaNodePools: `controller` (the KRaft quorum, one per zone) and
  `broker` (sized by components/traces_kafka_plan.py), both spread like every scale-tier
  component (components/hub_availability.py), on the hub's storage class;
- KafkaTopic `tempo-traces` (the Topic Operator creates and grows it): replication factor 3,
  `min.insync.replicas` 2, retention by time and by size. The brokers create no topic on their own.

Who reaches the brokers: the listener's `networkPolicyPeers` are the pods labelled
`CLIENT_LABELS`, which tempo-distributed's distributors, block-builders and live-stores carry
(components/values/hub_tempo.py); the operator turns them into the cluster's NetworkPolicy
(`generateNetworkPolicy`), whose other rules admit only the Kafka nodes and Strimzi's own
operators on the replication and controller ports. Plain Kafka inside the cluster, like every
hub backend behind the front door: the policy is the fence.
"""

from __future__ import annotations

from typing import Any, Optional

from components.hub_availability import MAX_UNAVAILABLE, MIMIR_TIER, ZONE, Component, component_labels
from components.hub_sizing import Resources
from components.traces_kafka_plan import (
    BROKER_HEAP,
    BROKER_RESOURCES,
    CONTROLLER_DISK_GIB,
    CONTROLLER_HEAP,
    CONTROLLER_RESOURCES,
    CONTROLLERS,
    MIN_IN_SYNC_REPLICAS,
    REPLICATION_FACTOR,
    TracesKafkaPlan,
)

API_VERSION = "kafka.strimzi.io/v1"
CLUSTER = "traces"
TOPIC = "tempo-traces"
BROKER_POOL = "broker"
CONTROLLER_POOL = "controller"
PORT = 9092
LISTENER = "plain"
KAFKA_VERSION = "4.3.1"
METADATA_VERSION = "4.3-IV0"
"""Kafka and its KRaft metadata version, pinned (Strimzi 1.2.0 defaults to this release)."""
CLUSTER_LABEL = "strimzi.io/cluster"
CLIENT_LABELS = {"obsfleet.io/kafka-client": CLUSTER}
"""The pods the brokers admit on the listener: Tempo's producers and consumers."""
WAIT_FOR_READY = {"pulumi.com/waitFor": "condition=Ready"}
"""`pulumi up` waits for the operator to report the resource Ready before Tempo is installed."""
HOURS_MS = 3_600_000


def bootstrap_address(namespace: str) -> str:
    """The bootstrap Service the operator creates for the cluster (`<cluster>-kafka-bootstrap`)."""
    return f"{CLUSTER}-kafka-bootstrap.{namespace}.svc.cluster.local:{PORT}"


def operator_values() -> dict[str, Any]:
    """strimzi-kafka-operator: the NetworkPolicies and PodDisruptionBudgets of what it runs are
    ours to rely on, so they are asked for (they are also the chart's defaults)."""
    return {"generateNetworkPolicy": True, "generatePodDisruptionBudget": True}


def _metadata(name: str, namespace: str, annotations: Optional[dict[str, str]] = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {CLUSTER_LABEL: CLUSTER}}
    if annotations:
        metadata["annotations"] = annotations
    return metadata


def kafka(namespace: str) -> dict[str, Any]:
    """The Kafka resource: listener, broker defaults, rack awareness and the disruption budget."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Kafka",
        "metadata": {"name": CLUSTER, "namespace": namespace, "annotations": WAIT_FOR_READY},
        "spec": {
            "kafka": {
                "version": KAFKA_VERSION,
                "metadataVersion": METADATA_VERSION,
                "listeners": [
                    {
                        "name": LISTENER,
                        "port": PORT,
                        "type": "internal",
                        "tls": False,
                        "networkPolicyPeers": [{"podSelector": {"matchLabels": CLIENT_LABELS}}],
                    }
                ],
                "config": {
                    "auto.create.topics.enable": False,
                    "default.replication.factor": REPLICATION_FACTOR,
                    "min.insync.replicas": MIN_IN_SYNC_REPLICAS,
                    "offsets.topic.replication.factor": REPLICATION_FACTOR,
                    "transaction.state.log.replication.factor": REPLICATION_FACTOR,
                    "transaction.state.log.min.isr": MIN_IN_SYNC_REPLICAS,
                },
                # broker.rack from the node's zone: each partition's replicas in distinct zones.
                "rack": {"topologyKey": ZONE},
                "template": {"podDisruptionBudget": {"maxUnavailable": MAX_UNAVAILABLE}},
            },
            "entityOperator": {"topicOperator": {}},
        },
    }


def _pool(
    name: str, namespace: str, replicas: int, roles: list[str], disk_gib: int, storage_class: Optional[str],
    resources: Resources, heap: str, component: Component,
) -> dict[str, Any]:
    storage: dict[str, Any] = {"type": "persistent-claim", "size": f"{disk_gib}Gi", "deleteClaim": False}
    if storage_class:
        storage["class"] = storage_class
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaNodePool",
        "metadata": _metadata(name, namespace),
        "spec": {
            "replicas": replicas,
            "roles": roles,
            "storage": storage,
            "resources": resources.helm(),
            "jvmOptions": {"-Xms": heap, "-Xmx": heap},
            "template": {
                "pod": {
                    "metadata": {"labels": component_labels(component)},
                    "topologySpreadConstraints": MIMIR_TIER.spread(component),
                }
            },
        },
    }


def node_pools(plan: TracesKafkaPlan, namespace: str, storage_class: Optional[str]) -> list[dict[str, Any]]:
    """The KRaft controllers (one per zone) and the brokers the plan sizes."""
    return [
        _pool(
            CONTROLLER_POOL, namespace, CONTROLLERS, ["controller"], CONTROLLER_DISK_GIB, storage_class,
            CONTROLLER_RESOURCES, CONTROLLER_HEAP, Component.TRACES_KAFKA_CONTROLLER,
        ),
        _pool(
            BROKER_POOL, namespace, plan.brokers, ["broker"], plan.broker_disk_gib, storage_class,
            BROKER_RESOURCES, BROKER_HEAP, Component.TRACES_KAFKA_BROKER,
        ),
    ]


def topic(plan: TracesKafkaPlan, namespace: str) -> dict[str, Any]:
    """Tempo's topic: one partition per block-builder and live-store, kept `retention_hours` (and
    never beyond its share of a broker's volume)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaTopic",
        "metadata": _metadata(TOPIC, namespace, WAIT_FOR_READY),
        "spec": {
            "partitions": plan.partitions,
            "replicas": REPLICATION_FACTOR,
            "config": {
                "min.insync.replicas": MIN_IN_SYNC_REPLICAS,
                "retention.ms": plan.retention_hours * HOURS_MS,
                "retention.bytes": plan.retention_bytes,
            },
        },
    }
