"""Which function computes a mocked resource type's provider outputs (`COMPUTED`, filled by `computes`)."""

from __future__ import annotations

import hashlib
from typing import Any, Callable

import pulumi

Computed = Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]
COMPUTED: dict[str, Computed] = {}


def computes(*types: str) -> Callable[[Computed], Computed]:
    def register(fn: Computed) -> Computed:
        for type_ in types:
            COMPUTED[type_] = fn
        return fn

    return register


def physical_name(name: str, length: int = 7) -> str:
    """Pulumi's auto-naming: logical name plus a random-looking (here: stable) suffix."""
    return f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:length]}"
