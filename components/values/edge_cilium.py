"""Cilium values for an edge that joins a cluster mesh (`obsfleet:clusterMesh`).

These values go to a release of the whole Cilium chart in kube-system: setting `clusterMesh`
makes this stack install, and from then on own, the cluster's CNI. Use it on a cluster created
without a CNI (or whose CNI you mean to replace). On a cluster already running Cilium installed
some other way, the release collides with the existing objects; on EKS (aws-node) or GKE's own
dataplane, Cilium's default IPAM fights the provider's CNI unless the cluster is prepared for it.

The mesh is configured through the chart's own `clustermesh.config`: the peers come from
`clusterMesh.peers`, and the chart renders what its clustermesh-apiserver, agents and operator
mount (the `cilium-clustermesh` and `cilium-kvstoremesh` Secrets, the `clustermesh-remote-users`
ConfigMap). Each cluster's clustermesh-apiserver is reached by its peers through an internal load
balancer. The clusters of one mesh must share Cilium's CA: the chart reuses a `cilium-ca` Secret it
finds in kube-system, so the same one is created in every member before the first deployment.
"""

from __future__ import annotations

from typing import Any

from components.regions import Cloud
from components.settings import ConfigError, EdgeSettings

MAX_CLUSTER_NAME = 32
"""Cilium's limit on `cluster.name` (values.yaml: at most 32 characters)."""
INTERNAL_LOAD_BALANCER = {
    Cloud.AWS: {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
    Cloud.GCP: {"networking.gke.io/load-balancer-type": "Internal"},
}
"""Peers connect across private networks, never over the internet."""


def cilium_values(settings: EdgeSettings) -> dict[str, Any]:
    """This cluster's mesh identity and peers, with the clustermesh-apiserver that peers connect to."""
    mesh = settings.cluster_mesh
    if mesh is None:
        raise ConfigError("obsfleet:clusterMesh: not set; Cilium values are only built for mesh members")
    if len(settings.cluster) > MAX_CLUSTER_NAME:
        raise ConfigError(
            f"obsfleet:cluster: '{settings.cluster}' is {len(settings.cluster)} characters; "
            f"a cluster-mesh member's name is at most {MAX_CLUSTER_NAME}"
        )
    peers = [{"name": p.name, "address": p.address, "port": p.port} for p in mesh.peers]
    return {
        "cluster": {"name": settings.cluster, "id": mesh.id},
        "clustermesh": {
            "useAPIServer": True,
            "config": {"enabled": True, "clusters": peers},
            "apiserver": {
                "service": {"type": "LoadBalancer", "annotations": INTERNAL_LOAD_BALANCER[settings.cloud]}
            },
        },
    }
