"""The traces Kafka's size: worked by hand from the module's rules, for hubs small and large."""

from __future__ import annotations

import pytest

from components.hub_sizing import GIB, KIB
from components.settings import HubSettings, Scale, Tier
from components.traces_kafka_plan import MAX_BROKER_DISK, TracesKafkaPlan, size, traces_bytes_per_second
from tests import fixture_fleet


@pytest.fixture(scope="module")
def eu_hub() -> HubSettings:
    settings = fixture_fleet.load("hub").settings
    assert isinstance(settings, HubSettings) and len(settings.edges) == 2
    return settings


def _with(settings: HubSettings, **scale: object) -> HubSettings:
    return settings.model_copy(update={"scale": Scale(**scale)})


def test_two_edges_get_three_brokers_of_sixteen_gib(eu_hub: HubSettings) -> None:
    # 2 x 64 KiB/s = 131072 B/s x 86400 s = 10.5 GiB a zone x 1.5 = 15.8 -> 16 GiB; 3 partitions.
    sized = size(eu_hub)
    assert sized == TracesKafkaPlan(131_072, 3, 1, 16, 24)
    assert sized.brokers == 3 and sized.replicas_per_broker == 3
    # Each replica may take 16 GiB x 0.85 / 3; a day of its share (3.5 GiB) fits under that.
    assert sized.retention_bytes == int(16 * GIB * 0.85 / 3)
    assert sized.retention_bytes > 131_072 / 3 * 86_400


def test_the_declared_rate_replaces_the_per_edge_assumption(eu_hub: HubSettings) -> None:
    # 50 MB/s: 9 partitions; 50e6 x 86400 x 1.5 = 6480e9 B a zone = 6035 GiB -> 6 brokers a zone of
    # 1006 GiB; 9 partitions rounded up to a multiple of 6 -> 12, 2 per broker.
    declared = _with(eu_hub, tier=Tier.MIMIR, traces_bytes_per_second=50_000_000)
    assert traces_bytes_per_second(declared) == 50_000_000
    sized = size(declared)
    assert (sized.partitions, sized.brokers_per_zone, sized.broker_disk_gib) == (12, 6, 1006)
    assert sized.broker_disk_gib * GIB <= MAX_BROKER_DISK
    assert sized.partitions % sized.brokers_per_zone == 0, "every broker of a zone holds the same share"


@pytest.mark.parametrize("rate", [1, 64 * KIB, 6_000_000, 7_000_000, 100_000_000, 384_000_000])
def test_a_day_of_spans_fits_on_the_brokers_below_the_size_cap(eu_hub: HubSettings, rate: int) -> None:
    sized = size(_with(eu_hub, tier=Tier.MIMIR, traces_bytes_per_second=rate))
    day_per_replica = rate * 86_400 / sized.partitions
    assert day_per_replica <= sized.retention_bytes, "time retention governs at the declared rate"
    assert sized.retention_bytes * sized.replicas_per_broker <= sized.broker_disk_gib * GIB, "the cap fits the volume"
    assert sized.partitions * 6_000_000 >= rate, "no live-store above 6 MB/s"
