"""review/engine.py: the export's order depends on what a program declares, never on when."""

from __future__ import annotations

import random

import pulumi
import pytest

from review import engine


def _record(name: str, **links: object) -> dict[str, object]:
    return {"urn": f"urn:pulumi:s::obsfleet::t::{name}", "type": "t", "custom": True, **links}


def _urn(name: str) -> str:
    return f"urn:pulumi:s::obsfleet::t::{name}"


RECORDS = [
    _record("z-component"),
    _record("provider", parent=_urn("z-component")),
    _record("a-bucket", parent=_urn("z-component"), provider=_urn("provider") + "::provider-id"),
    _record("b-policy", dependencies=[_urn("a-bucket")]),
    _record("c-user", propertyDependencies={"bucket": [_urn("b-policy")]}),
    _record("d-free"),
]


@pytest.mark.parametrize("seed", range(5))
def test_any_arrival_order_exports_the_same_order(seed: int) -> None:
    shuffled = RECORDS[:]
    random.Random(seed).shuffle(shuffled)
    names = [r["urn"].rsplit("::", 1)[1] for r in engine.export_order(shuffled)]
    assert names == ["d-free", "z-component", "provider", "a-bucket", "b-policy", "c-user"]


def test_a_cycle_still_lists_every_resource() -> None:
    cycle = [_record("a", dependencies=[_urn("b")]), _record("b", dependencies=[_urn("a")])]
    assert [r["urn"] for r in engine.export_order(cycle)] == [_urn("a"), _urn("b")]


@pytest.mark.parametrize(
    ("asset", "form"),
    [
        (pulumi.FileAsset("values.yaml"), {"path": "values.yaml"}),
        (pulumi.RemoteAsset("https://example.com/v.yaml"), {"uri": "https://example.com/v.yaml"}),
    ],
)
def test_assets_keep_their_source(asset: pulumi.Asset, form: dict[str, str]) -> None:
    assert engine._plain([asset]) == [{engine.SIG: engine.ASSET_SIG, **form}]


def test_archives_nest_their_assets_in_name_order() -> None:
    archive = pulumi.AssetArchive({"b": pulumi.StringAsset("x"), "a": pulumi.FileArchive("dir")})
    plain = engine._plain(archive)
    assert plain[engine.SIG] == engine.ARCHIVE_SIG
    assert list(plain["assets"]) == ["a", "b"]
    assert plain["assets"]["a"] == {engine.SIG: engine.ARCHIVE_SIG, "path": "dir"}
    assert plain["assets"]["b"]["text"] == "x" and len(plain["assets"]["b"]["hash"]) == 64


def test_an_object_without_an_export_form_is_refused_not_written_as_a_repr() -> None:
    with pytest.raises(TypeError, match="no export form for object"):
        engine._plain({"x": object()})
