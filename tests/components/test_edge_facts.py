"""One edge's facts in two files: the hub's `edges` entries and the drift check between them."""

from __future__ import annotations

import pytest

from components.edge_facts import drift, hub_entries
from components.settings import HubSettings, parse
from tests.components.settings_samples import HUB, edge_settings


def _hub(**entry: object) -> HubSettings:
    settings = parse({**HUB, "edges": [{"name": "edge-a", "region": "eu-north-1"}, {"name": "edge-eu", "region": "eu-west-1", **entry}]})
    assert isinstance(settings, HubSettings)
    return settings


def test_entries_hold_each_edges_index_and_facts() -> None:
    assert hub_entries(_hub(bufferHours=6))["edge-eu"] == {
        "index": 1, "region": "eu-west-1", "seriesEstimate": 50_000, "bufferHours": 6.0, "agentReplicas": 1,
    }


def test_equal_facts_pass_and_an_unlisted_edge_is_left_to_the_certificate_check() -> None:
    assert drift(edge_settings(), hub_entries(_hub()), "hub") is None
    assert drift(edge_settings(cluster="edge-x"), hub_entries(_hub()), "hub") is None


@pytest.mark.parametrize(
    ("entry", "edge", "message"),
    [
        ({"bufferHours": 6}, {"bufferHours": 12}, "obsfleet:bufferHours=12 differs from Pulumi.hub.yaml obsfleet:edges[1].bufferHours=6"),
        ({"bufferHours": 4.5}, {}, "obsfleet:bufferHours=4 differs from Pulumi.hub.yaml obsfleet:edges[1].bufferHours=4.5"),
        ({"seriesEstimate": 80_000}, {}, "obsfleet:seriesEstimate=50000 differs from Pulumi.hub.yaml obsfleet:edges[1].seriesEstimate=80000"),
        ({}, {"region": "eu-west-3"}, "obsfleet:region=eu-west-3 differs from Pulumi.hub.yaml obsfleet:edges[1].region=eu-west-1"),
    ],
)
def test_each_differing_fact_names_both_keys(entry: dict, edge: dict, message: str) -> None:
    found = drift(edge_settings(**edge), hub_entries(_hub(**entry)), "hub")
    assert found is not None and found.startswith(message + ": ")


@pytest.mark.parametrize("entries", [None, [], "edges", {"edge-eu": None}])
def test_exports_without_this_edges_entry_are_left_to_the_certificate_check(entries: object) -> None:
    assert drift(edge_settings(), entries, "hub") is None


def test_an_entry_that_is_not_a_map_names_the_hub() -> None:
    assert drift(edge_settings(), {"edge-eu": ["x"]}, "hub") == (
        "stack hub exports an `edges` entry for edge-eu that is not a map: update the hub")
