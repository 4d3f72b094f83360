"""An edge's sizing and replay facts, declared in two stack files and held equal.

The edge's stack file sizes its agent from `region`, `seriesEstimate` and `bufferHours` and runs
`agentReplicas` agents; its hub's `obsfleet:edges` entry sizes the hub's ingest and its
out-of-order window from the same three and deduplicates a pair. The
hub exports its entries (`edges` output) and the edge refuses to deploy when its own file
disagrees; the offline review compares the two files before previewing. Either way the message
names both keys, e.g. `obsfleet:bufferHours=12 differs from Pulumi.hub.yaml
obsfleet:edges[0].bufferHours=6`.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from components.settings import NAMESPACE, EdgeSettings, HubSettings

FACTS = {
    "region": "region",
    "seriesEstimate": "series_estimate",
    "bufferHours": "buffer_hours",
    "agentReplicas": "agent_replicas",
}
"""Config key -> settings attribute, the same name on both sides."""


def hub_entries(settings: HubSettings) -> dict[str, dict[str, Any]]:
    """The hub's `edges` output: edge name -> its index in `obsfleet:edges` and its facts."""
    return {
        edge.name: {"index": index, **{key: getattr(edge, attribute) for key, attribute in FACTS.items()}}
        for index, edge in enumerate(settings.edges)
    }


def _shown(value: Any) -> str:
    # Outputs cross the engine as protobuf numbers: an index or an integral hour count may arrive as 6.0.
    return f"{value:g}" if isinstance(value, float) else str(value)


def drift(settings: EdgeSettings, entries: Any, hub: str) -> Optional[str]:
    """Why this edge's facts disagree with its entry in hub stack `hub`'s `edges` (as exported,
    so checked for shape), or None.

    An edge the hub does not list is the certificate check's to report (components/pki.py).
    """
    entry = entries.get(settings.cluster) if isinstance(entries, Mapping) else None
    if entry is None:
        return None
    if not isinstance(entry, Mapping):
        return f"stack {hub} exports an `edges` entry for {settings.cluster} that is not a map: update the hub"
    for key, attribute in FACTS.items():
        mine, theirs = getattr(settings, attribute), entry.get(key)
        if mine != theirs:
            return (
                f"{NAMESPACE}:{key}={_shown(mine)} differs from Pulumi.{hub}.yaml "
                f"{NAMESPACE}:edges[{_shown(entry.get('index'))}].{key}={_shown(theirs)}: declare the same value in both "
                "files (the hub sizes its ingest and replay window from its entry)"
            )
    return None
