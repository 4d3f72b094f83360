"""The hub facts of the review report show the sizes the program declares."""

from __future__ import annotations

from typing import Any

from components.settings import HubSettings, Scale, Tier
from review import engine
from review.hub_facts import hub_sizing_json


def _rows(settings: HubSettings) -> dict[str, dict[str, Any]]:
    return {row["component"]: row for row in hub_sizing_json(settings)["components"]}


def test_the_traces_kafka_rows_are_the_declared_node_pools(fleet: dict[str, engine.PreviewResult]) -> None:
    hub = fleet["hub"]
    settings = hub.config.settings
    assert isinstance(settings, HubSettings)
    pools = {
        r["inputs"]["metadata"]["name"]: r["inputs"]["spec"]
        for r in hub.resources if r["type"] == "kubernetes:kafka.strimzi.io/v1:KafkaNodePool"
    }
    rows = _rows(settings)
    for pool, row in (("broker", rows["traces-kafka-broker"]), ("controller", rows["traces-kafka-controller"])):
        spec = pools[pool]
        assert (row["replicas"], f"{row['diskGiB']}Gi") == (spec["replicas"], spec["storage"]["size"])
        assert f"{row['memoryMiB']}Mi" == spec["resources"]["requests"]["memory"]
        assert f"{row['cpuMillicores']}m" == spec["resources"]["requests"]["cpu"]
    single = settings.model_copy(update={"scale": Scale(tier=Tier.PROMETHEUS)})
    assert not [name for name in _rows(single) if name.startswith("traces-kafka")], "no Kafka beside a single Tempo"
