"""The traces Kafka's custom resources as the values module builds them from a plan."""

from __future__ import annotations

import pytest

from components.hub_availability import MIMIR_TIER, Component
from components.traces_kafka_plan import TracesKafkaPlan
from components.values import hub_traces_kafka

PLAN = TracesKafkaPlan(bytes_per_second=9_830_400, partitions=4, brokers_per_zone=2, broker_disk_gib=594, retention_hours=24)


@pytest.mark.parametrize("storage_class", ["gp3", None])
def test_both_pools_claim_the_hubs_storage_class(storage_class: str | None) -> None:
    pools = {p["metadata"]["name"]: p["spec"] for p in hub_traces_kafka.node_pools(PLAN, "obs", storage_class)}
    assert set(pools) == {"controller", "broker"}
    for spec in pools.values():
        storage = spec["storage"]
        assert storage.get("class") == storage_class, "unset: the cluster's default class"
        assert storage["type"] == "persistent-claim" and storage["deleteClaim"] is False
    assert (pools["broker"]["replicas"], pools["broker"]["storage"]["size"]) == (6, "594Gi")


def test_pools_spread_like_every_scale_tier_component() -> None:
    pools = {p["metadata"]["name"]: p for p in hub_traces_kafka.node_pools(PLAN, "obs", None)}
    for name, component in (("controller", Component.TRACES_KAFKA_CONTROLLER), ("broker", Component.TRACES_KAFKA_BROKER)):
        pod = pools[name]["spec"]["template"]["pod"]
        assert pod["topologySpreadConstraints"] == MIMIR_TIER.spread(component)
        assert pools[name]["metadata"]["labels"] == {"strimzi.io/cluster": hub_traces_kafka.CLUSTER}


def test_the_topic_keeps_the_plans_time_and_size() -> None:
    topic = hub_traces_kafka.topic(PLAN, "obs")
    assert topic["metadata"]["labels"] == {"strimzi.io/cluster": hub_traces_kafka.CLUSTER}
    assert topic["spec"]["partitions"] == 4
    assert topic["spec"]["config"] == {
        "min.insync.replicas": 2,
        "retention.ms": 86_400_000,
        "retention.bytes": PLAN.retention_bytes,
    }
    # 594 GiB x 0.85 over the 2 replicas each broker holds.
    assert PLAN.retention_bytes == int(594 * 2**30 * 0.85 / 2)
