"""policies/_values.py: reading what the SDK hands a policy without ever raising."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policies.obsfleet_residency._values import (
    UNKNOWN,
    all_of,
    any_item,
    any_of,
    dig,
    equals,
    flag,
    items,
    json_object,
    plain,
    positive,
    present,
    text,
)


def test_plain_unwraps_sdk_proxies_without_tripping_on_unknowns() -> None:
    proxied = unknown_checking_proxy({"a": {"b": [UNKNOWN_STRING_VALUE, 1.0]}, "c": UNKNOWN_NUMBER_VALUE})
    with pytest.raises(UnknownValueError):  # what a policy reading the proxy directly would hit
        proxied["c"]
    assert plain(proxied) == {"a": {"b": [UNKNOWN, 1.0]}, "c": UNKNOWN}


def test_dig_reports_absence_and_unknowns_on_the_way() -> None:
    value = {"a": {"b": "x"}, "u": UNKNOWN, "s": "text"}
    assert dig(value, "a", "b") == "x"
    assert dig(value, "a", "missing") is None
    assert dig(value, "u", "deeper") is UNKNOWN
    assert dig(value, "s", "deeper") is None  # mistyped: not an object


@pytest.mark.parametrize(
    "value, expected",
    [([1], [1]), ({"k": 1}, [{"k": 1}]), (UNKNOWN, UNKNOWN), ("x", []), (None, []), (3.0, [])],
)
def test_items_treats_one_object_as_a_list_of_one(value: object, expected: object) -> None:
    assert items(value) == expected


def test_scalar_readers() -> None:
    assert text("a") == "a" and text("") is None and text(5) is None and text(UNKNOWN) is UNKNOWN
    assert present(UNKNOWN) is True and present("k") is True and present("") is False and present({}) is False
    assert flag(True) is True and flag("TRUE") is True and flag(1) is False and flag(UNKNOWN) is UNKNOWN
    assert equals("Enforced", "enforced") is True and equals(None, "x") is False and equals(UNKNOWN, "x") is UNKNOWN
    assert positive(14.0) is True and positive(0) is False and positive(True) is False and positive("14") is False


def test_json_object_parses_provider_and_policy_documents() -> None:
    assert json_object('{"tags": {"a": "b"}}') == {"tags": {"a": "b"}}
    assert json_object({"already": "object"}) == {"already": "object"}
    assert json_object("[1, 2]") is None and json_object("not json") is None and json_object(7) is None
    assert json_object(UNKNOWN) is UNKNOWN
    assert json_object(f'{{"x": "{UNKNOWN_STRING_VALUE}"}}') == {"x": UNKNOWN}


@pytest.mark.parametrize(
    "values, any_expected, all_expected",
    [
        ([True, False], True, False),
        ([False, UNKNOWN], UNKNOWN, False),
        ([True, UNKNOWN], True, UNKNOWN),
        ([], False, True),
    ],
)
def test_three_valued_logic(values: list, any_expected: object, all_expected: object) -> None:
    assert any_of(values) is any_expected
    assert all_of(values) is all_expected


def test_any_item_is_unknown_when_the_list_is() -> None:
    assert any_item(UNKNOWN, lambda _: True) is UNKNOWN
    assert any_item([1, 2], lambda v: v == 2) is True
    assert any_item("mistyped", lambda _: True) is False
