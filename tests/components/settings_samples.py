"""Minimal valid `obsfleet:` config of a hub and an edge, as Python values, for tests to vary."""

from __future__ import annotations

from typing import Any, Mapping

from components.settings import EdgeSettings, parse

HUB: dict[str, Any] = {
    "role": "hub",
    "org": "acme",
    "cloud": "aws",
    "region": "eu-central-1",
    "regime": "gdpr",
    "cluster": "hub-eu",
    "domain": "obs.eu.example.com",
    "oidcProvider": {
        "arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC",
        "url": "https://oidc.eks.eu-central-1.amazonaws.com/id/ABC",
    },
    "edges": [{"name": "edge-eu", "region": "eu-west-1"}],
}
EDGE: dict[str, Any] = {
    "role": "edge",
    "kubernetes": {"context": "edge-eu"},
    "org": "acme",
    "cloud": "aws",
    "region": "eu-west-1",
    "regime": "gdpr",
    "cluster": "edge-eu",
    "hubStack": "hub",
}


def edge_settings(base: Mapping[str, Any] = EDGE, **config: Any) -> EdgeSettings:
    """`base` (an edge's config) with `config` on top, parsed."""
    settings = parse({**base, **config})
    assert isinstance(settings, EdgeSettings)
    return settings
