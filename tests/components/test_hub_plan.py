"""The hub plan: the tier's consequences decided in one module, and no other module deciding them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components import hub_sizing, traces_kafka_plan
from components.charts import TEMPO, TEMPO_DISTRIBUTED
from components.endpoints import ingest_endpoints
from components.hub_availability import MIMIR_TIER, PROMETHEUS_TIER
from components.hub_plan import HubPlan
from components.settings import HubSettings, Scale, Tier, TracesKafka
from tests import fixture_fleet

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
TIER_DECIDERS = {"settings.py", "hub_plan.py"}
"""The enum, its default and validation; the plan. Every other module reads the plan."""
TIER_MEMBER = re.compile(r"\bTier\.")


def tier_mentions(root: Path) -> dict[str, int]:
    """Files under `root` naming a member of the Tier enum (`Tier.`), with how often."""
    counts = {str(p.relative_to(root)): len(TIER_MEMBER.findall(p.read_text())) for p in sorted(root.rglob("*.py"))}
    return {name: n for name, n in counts.items() if n}


def test_only_settings_and_the_plan_name_a_tier() -> None:
    assert set(tier_mentions(COMPONENTS)) <= TIER_DECIDERS


def test_a_tier_mention_is_found_in_code_and_text(tmp_path: Path) -> None:
    (tmp_path / "values").mkdir()
    (tmp_path / "values" / "a.py").write_text("x = 1 if t is Tier.MIMIR else 2\n")
    (tmp_path / "b.py").write_text('"""Only in `Tier.PROMETHEUS`."""\nfrom settings import Tier\nNotTier.x = 1\n')
    (tmp_path / "c.py").write_text("tier: Tier\n")
    assert tier_mentions(tmp_path) == {"values/a.py": 1, "b.py": 1}


def _hub(name: str, tier: Tier | None = None) -> HubSettings:
    settings = fixture_fleet.load(name).settings
    assert isinstance(settings, HubSettings)
    return settings if tier is None else settings.model_copy(update={"scale": Scale(tier=tier)})


def test_a_one_edge_hub_plans_a_prometheus_receiver() -> None:
    settings = _hub("hub-ap")
    plan = HubPlan.of(settings)
    assert len(settings.edges) == 1 and not plan.mimir
    assert plan.tempo_chart == TEMPO and plan.availability is PROMETHEUS_TIER
    load = hub_sizing.IngestLoad.of(settings.edges)
    assert plan.receiver_sizing == hub_sizing.receiver(load, settings.retention.metrics) and plan.mimir_sizing is None
    assert plan.loki_chunks_cache_mb == 1024
    assert ingest_endpoints(plan).remote_write_url == "https://metrics.obs.ap.example.com/api/v1/write"


def test_a_shared_hub_plans_mimir() -> None:
    settings = _hub("hub")
    plan = HubPlan.of(settings)
    assert len(settings.edges) == 2 and plan.mimir
    assert plan.tempo_chart == TEMPO_DISTRIBUTED and plan.availability is MIMIR_TIER
    assert plan.mimir_sizing == hub_sizing.mimir(hub_sizing.IngestLoad.of(settings.edges)) and plan.receiver_sizing is None
    assert plan.traces_kafka == traces_kafka_plan.size(settings)
    assert plan.loki_chunks_cache_mb == 8192
    assert ingest_endpoints(plan).remote_write_url == "https://metrics.obs.eu.example.com/api/v1/push"


@pytest.mark.parametrize(("name", "tier"), [("hub", Tier.PROMETHEUS), ("hub-ap", Tier.MIMIR)])
def test_a_pinned_tier_overrides_the_default(name: str, tier: Tier) -> None:
    plan = HubPlan.of(_hub(name, tier))
    assert plan.mimir is (tier is Tier.MIMIR)
    assert (plan.receiver_sizing is None) is plan.mimir and (plan.mimir_sizing is None) is not plan.mimir
    assert plan.availability is (MIMIR_TIER if plan.mimir else PROMETHEUS_TIER)


def test_no_kafka_of_the_hubs_own_where_it_would_be_unused() -> None:
    assert HubPlan.of(_hub("hub", Tier.PROMETHEUS)).traces_kafka is None, "the single Tempo has no Kafka"
    external = Scale(tier=Tier.MIMIR, traces_kafka=TracesKafka(address="kafka.obs.eu.example.com:9092"))
    assert HubPlan.of(_hub("hub").model_copy(update={"scale": external})).traces_kafka is None
