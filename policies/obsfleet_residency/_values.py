"""Property values as the engine sends them, read without ever raising.

The SDK hands policies its unknown-checking proxies (reading an unknown raises and aborts the whole
policy), numbers as floats, provider object inputs as JSON strings, and whatever a mistyped
program declared. `plain` turns all of it into plain Python with `UNKNOWN` for values that are
not known yet (preview) or not readable (secrets in an export); the readers below never raise.

Judgements are three-valued (`Tri`): True, False, or UNKNOWN ("cannot verify").
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Callable, Final, Iterable, Mapping, Union

from pulumi_policy import proxy
from pulumi_policy.proxy import _DictProxy, _ListProxy  # private, but the SDK is pinned (1.21.0)


class Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = Unknown()
Tri = Union[bool, Unknown]

_SENTINELS = frozenset(
    {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }
)


def unwrap(value: Any) -> Any:
    """The container inside an SDK proxy (indexing the proxy raises on unknowns); others as they are."""
    kind = type(value)
    return value["__target"] if kind is _DictProxy or kind is _ListProxy else value


def mapping(value: Any) -> Mapping[str, Any]:
    """A resource's properties as a mapping: {} when the engine sent none (a failed program's
    Stack, a resource whose whole state is unknown)."""
    value = unwrap(value)
    return value if isinstance(value, Mapping) else {}


def plain(value: Any) -> Any:
    """`value` as plain dicts/lists/scalars, unknown sentinels replaced by UNKNOWN."""
    value = unwrap(value)
    kind = type(value)
    if kind is str:
        return UNKNOWN if value in _SENTINELS else value
    if kind is dict:
        return {key: plain(item) for key, item in value.items()}
    if kind is list:
        return [plain(item) for item in value]
    return value


def dig(value: Any, *path: str) -> Any:
    """The value at `path`: None when absent or not an object, UNKNOWN when an unknown is on the way."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def items(value: Any) -> Union[list, Unknown]:
    """A list's elements (one object counts as a list of one); [] when absent or mistyped."""
    if value is UNKNOWN or isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def text(value: Any) -> Union[str, None, Unknown]:
    """A non-empty string, UNKNOWN, or None."""
    if value is UNKNOWN or (isinstance(value, str) and value):
        return value
    return None


def present(value: Any) -> bool:
    """Whether a reference (key id, target bucket) is set. An unknown one is set: to another
    resource's output that preview cannot know yet, which is exactly how a program wires it."""
    return value is UNKNOWN or text(value) is not None


def flag(value: Any) -> Tri:
    """True for true (or "true": provider inputs and config are strings), UNKNOWN, else False."""
    if value is UNKNOWN:
        return UNKNOWN
    return value is True or (isinstance(value, str) and value.lower() == "true")


def equals(value: Any, expected: str) -> Tri:
    """Case-insensitive string equality, UNKNOWN when the value is."""
    if value is UNKNOWN:
        return UNKNOWN
    return isinstance(value, str) and value.lower() == expected.lower()


def positive(value: Any) -> Tri:
    """A number > 0 (floats on the wire, never bools)."""
    if value is UNKNOWN:
        return UNKNOWN
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def json_object(value: Any) -> Union[dict, None, Unknown]:
    """An object, or a string holding a JSON object (provider object inputs, policy documents)."""
    if value is UNKNOWN or isinstance(value, dict):
        return value
    return _parse_object(value) if isinstance(value, str) else None


def json_array(value: Any) -> Union[list, None, Unknown]:
    """A list, or a string holding a JSON array (provider list inputs, as the engine records them)."""
    if value is UNKNOWN or isinstance(value, list):
        return value
    parsed = _parse(value) if isinstance(value, str) else None
    return parsed if isinstance(parsed, list) else None


def _parse_object(document: str) -> Union[dict, None]:
    """The object a JSON string holds; None for anything else, hostile nesting and numbers included."""
    parsed = _parse(document)
    return parsed if isinstance(parsed, dict) else None


@lru_cache(maxsize=1024)
def _parse(document: str) -> Any:
    """The value a JSON string holds (plain); None when malformed, hostile nesting and numbers included."""
    try:
        return plain(json.loads(document))
    except (ValueError, RecursionError):  # ValueError: malformed, or an int over CPython's digit limit
        return None


def any_of(values: Iterable[Tri]) -> Tri:
    """True if any is True, else UNKNOWN if any is UNKNOWN, else False."""
    seen_unknown = False
    for value in values:
        if value is True:
            return True
        seen_unknown = seen_unknown or value is UNKNOWN
    return UNKNOWN if seen_unknown else False


def all_of(values: Iterable[Tri]) -> Tri:
    """False if any is False, else UNKNOWN if any is UNKNOWN, else True."""
    seen_unknown = False
    for value in values:
        if value is False:
            return False
        seen_unknown = seen_unknown or value is UNKNOWN
    return UNKNOWN if seen_unknown else True


def any_item(value: Any, judge: Callable[[Any], Tri]) -> Tri:
    """`any_of` over a list's elements; UNKNOWN when the list itself is."""
    found = items(value)
    return UNKNOWN if isinstance(found, Unknown) else any_of(judge(item) for item in found)


def each(value: Any, *keys: str) -> Union[list, Unknown]:
    """The objects under any of `keys` of `value`, one list: provider versions spell one setting
    as an object (`rule`, pulumi-aws 7 Bucket) or a list (`rules`, BucketV2). UNKNOWN if any is."""
    found: list = []
    for key in keys:
        listed = items(dig(value, key))
        if isinstance(listed, Unknown):
            return UNKNOWN
        found += listed
    return found


def strings(value: Any) -> list[str]:
    """A string or list's string members ([] otherwise)."""
    listed = value if isinstance(value, list) else [value]
    return [member for member in listed if isinstance(member, str)]


def every_item(value: Any, judge: Callable[[Any], Tri]) -> Tri:
    """`all_of` over a list's elements, False for an empty or absent list; UNKNOWN when the list is."""
    found = items(value)
    if isinstance(found, Unknown):
        return UNKNOWN
    return all_of(judge(item) for item in found) if found else False
