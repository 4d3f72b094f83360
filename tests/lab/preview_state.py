"""What the labs read from a preview's recorded state: one resource under a component, the hub's
ingest server Secret."""

from __future__ import annotations

from typing import Any

from components import pki
from review import engine


def component_state(result: engine.PreviewResult, component: str, kind: str, suffix: str) -> dict[str, Any]:
    """Real state of the one `kind` resource under a `component` whose name ends with `suffix`."""
    found = [
        state
        for urn, state in result.state.items()
        if f"{component}${kind}::" in urn and urn.endswith(suffix)
    ]
    assert len(found) == 1, f"{result.stack}: expected one {kind} '*{suffix}' under {component}, found {len(found)}"
    return found[0]


def server_secret(hub: engine.PreviewResult) -> dict[str, str]:
    """The hub's ingest server Secret (tls.crt, tls.key, ca.crt) as the program declares it."""
    return component_state(hub, pki.PKI_TYPE, "kubernetes:core/v1:Secret", "-server-secret")["stringData"]
