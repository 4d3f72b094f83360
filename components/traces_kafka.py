"""TracesKafka: the replicated Kafka the Mimir tier's traces go through, run by the Strimzi operator.

Declares the strimzi-kafka-operator release (its chart brings the CRDs) and, after it, the Kafka,
its two KafkaNodePools and Tempo's KafkaTopic (components/values/hub_traces_kafka.py), sized by
components/traces_kafka_plan.py. The Kafka and the topic carry `pulumi.com/waitFor`, so whatever
depends on this component starts once the operator reports both Ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components import charts
from components.traces_kafka_plan import TracesKafkaPlan
from components.values import hub_traces_kafka

TYPE = "obsfleet:index:TracesKafka"


@dataclass(frozen=True)
class TracesKafkaArgs:
    plan: TracesKafkaPlan
    namespace: str
    """The hub's namespace (operator, Kafka and topic live there)."""
    storage_class: Optional[str]
    """StorageClass of the brokers' and controllers' volumes; None: the cluster's default."""
    after: Sequence[pulumi.Resource] = ()
    """What must exist before the operator is installed (the namespace)."""


class TracesKafka(pulumi.ComponentResource):
    bootstrap: pulumi.Output[str]
    """`host:port` of the cluster's bootstrap Service."""

    def __init__(self, name: str, args: TracesKafkaArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(TYPE, name, None, opts)
        ns = args.namespace
        self.operator = charts.release(
            f"{name}-operator",
            charts.STRIMZI_KAFKA_OPERATOR,
            ns,
            hub_traces_kafka.operator_values(),
            parent=self,
            depends_on=args.after,
        )
        pools = [
            self._resource(f"{name}-pool-{pool['metadata']['name']}", pool)
            for pool in hub_traces_kafka.node_pools(args.plan, ns, args.storage_class)
        ]
        self.kafka = self._resource(f"{name}-cluster", hub_traces_kafka.kafka(ns), pools)
        self.topic = self._resource(f"{name}-topic", hub_traces_kafka.topic(args.plan, ns), [self.kafka])
        self.bootstrap = pulumi.Output.from_input(hub_traces_kafka.bootstrap_address(ns))
        self.register_outputs({"bootstrap": self.bootstrap})

    def _resource(
        self, name: str, body: dict[str, Any], after: Sequence[pulumi.Resource] = ()
    ) -> k8s.apiextensions.CustomResource:
        """A custom resource the operator reconciles; it needs the operator (and its CRDs) first."""
        return k8s.apiextensions.CustomResource(
            name,
            api_version=body["apiVersion"],
            kind=body["kind"],
            metadata=body["metadata"],
            spec=body["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.operator, *after]),
        )
