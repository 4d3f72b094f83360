"""Cilium values for an edge that joins a cluster mesh (`obsfleet:clusterMesh`).

These values go to a release of the whole Cilium chart in kube-system: setting `clusterMesh`
makes this stack install, and from then on own, the cluster's CNI. Use it on a cluster created
without a CNI (or whose CNI you mean to replace). On a cluster already running Cilium installed
some other way, the release collides with the existing objects; on EKS (aws-node) or GKE's own
dataplane, Cilium's default IPAM fights the provider's CNI unless the cluster is prepared for it.
"""

from __future__ import annotations

from typing import Any

from components.settings import ConfigError, EdgeSettings

MAX_CLUSTER_NAME = 32
"""Cilium's limit on `cluster.name` (values.yaml: at most 32 characters)."""


def cilium_values(settings: EdgeSettings) -> dict[str, Any]:
    """This cluster's mesh identity, with the clustermesh-apiserver that peers connect to."""
    mesh = settings.cluster_mesh
    if mesh is None:
        raise ConfigError("obsfleet:clusterMesh: not set; Cilium values are only built for mesh members")
    if len(settings.cluster) > MAX_CLUSTER_NAME:
        raise ConfigError(
            f"obsfleet:cluster: '{settings.cluster}' is {len(settings.cluster)} characters; "
            f"a cluster-mesh member's name is at most {MAX_CLUSTER_NAME}"
        )
    return {
        "cluster": {"name": settings.cluster, "id": mesh.id},
        "clustermesh": {"useAPIServer": True},
    }
