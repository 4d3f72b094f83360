"""FrontDoor: the hub's only way in for edge data, and the fence that makes it the only one.

Declares (all through the hub's providers):
- a ConfigMap with the rendered nginx.conf, the allow-list of edge certificates (`tenants.map`,
  fingerprints computed from the certificates the hub issued) and the trust bundle;
- a Deployment of nginx pods (pinned unprivileged image, read-only root, the ingest server Secret
  mounted), replicated and spread as the hub's availability plan says
  (components/hub_availability.py), with a PodDisruptionBudget taking one pod at a time;
  the pod template carries a hash of its config and server certificate, so a hub `pulumi up` that
  changes the edge list (revocation), the trust bundle (CA rotation) or the server certificate
  rolls the pods onto it;
- nginx resolves each backend's Service name once, at start (its ClusterIP is stable); the hub
  declares the front door after the releases that create those Services;
- one NetworkPolicy per backend: its pods take connections only from the front door, from each
  other, and from the hub's own readers (Grafana, the hub Prometheus). No other pod of the cluster,
  and nothing outside it, reaches a receiver except through the front door's mTLS.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.front_door_config import (
    CONFIG_FILE,
    TENANTS_FILE,
    TRUST_BUNDLE_FILE,
    Layout,
    Route,
    nginx_conf,
    tenants_map,
)
from components.values.common import SECRET_MODE

TYPE = "obsfleet:index:FrontDoor"

NAME = "obsfleet-front-door"
IMAGE = "nginxinc/nginx-unprivileged:1.27.5-alpine"
MAX_UNAVAILABLE = 1
LABELS = {"app.kubernetes.io/name": "obsfleet-front-door"}
CONFIG_DIR = "/etc/obsfleet/front-door"
TLS_DIR = "/etc/obsfleet/tls"
RUNTIME_DIR = "/tmp"
POD_LAYOUT = Layout(config_dir=CONFIG_DIR, tls_dir=TLS_DIR, runtime_dir=RUNTIME_DIR)
CHECKSUM_ANNOTATION = "obsfleet.io/config-checksum"
RUNTIME_LIMIT = "2Gi"
"""The scratch volume buffering request bodies (nginx spools a large push to disk)."""
RESOURCES = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
"""Not sized from measurements: nginx proxying TLS is far below the backends' per-sample cost."""


@dataclass(frozen=True)
class Backend:
    """Pods behind the front door, fenced by a NetworkPolicy."""

    name: str
    """Names the policy (`obsfleet-fence-<name>`)."""
    pods: Mapping[str, str]
    """Labels selecting the backend's pods."""
    peers: Sequence[Mapping[str, str]] = ()
    """Other pods (label selectors, same namespace) it must accept besides the front door and itself."""


@dataclass(frozen=True)
class FrontDoorArgs:
    namespace: pulumi.Input[str]
    routes: Sequence[Route]
    """One per signal, with the pod's listen ports and the backends' in-cluster addresses."""
    edge_certificates: Mapping[str, Sequence[pulumi.Input[str]]]
    """Tenant (edge cluster name) -> the PEM certificates the hub holds for it (FleetPki's
    `accepted_certificates`: two during a CA change-over): the allow-list."""
    trust_bundle: pulumi.Input[str]
    """PEM CAs whose client certificates the TLS layer accepts (old and new during a rotation)."""
    server_cert: pulumi.Input[str]
    """The ingest server certificate (public PEM), hashed into the pod template to roll on renewal."""
    server_secret: str
    """kubernetes.io/tls Secret of the ingest server certificate and key."""
    backends: Sequence[Backend]
    replicas: int
    """At least 2: one pod may be drained or rolled while another serves."""
    spread: Sequence[Mapping[str, Any]]
    """The pods' `topologySpreadConstraints` (Kubernetes field names)."""
    pod_labels: Mapping[str, str]
    """Labels the spread constraints select on, added to the pods'."""


def checksum(data: Mapping[str, str], server_cert: str) -> str:
    """Hash of everything the running nginx reads at start: a change must restart it."""
    blob = json.dumps({"config": dict(sorted(data.items())), "server": server_cert}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def config_data(routes: Sequence[Route], certificates: Mapping[str, Sequence[str]], trust_bundle: str) -> dict[str, str]:
    """The ConfigMap's files, as the pod reads them."""
    return {
        CONFIG_FILE: nginx_conf(routes, POD_LAYOUT),
        TENANTS_FILE: tenants_map(certificates),
        TRUST_BUNDLE_FILE: trust_bundle,
    }


class FrontDoor(pulumi.ComponentResource):
    config_map: k8s.core.v1.ConfigMap
    deployment: k8s.apps.v1.Deployment

    def __init__(self, name: str, args: FrontDoorArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(TYPE, name, None, opts)
        if args.replicas < 2:
            raise ValueError(f"the front door needs at least 2 replicas, not {args.replicas}")
        tenants = sorted(args.edge_certificates)
        certificates = pulumi.Output.all(*[pulumi.Output.all(*args.edge_certificates[t]) for t in tenants]).apply(
            lambda pems: dict(zip(tenants, pems))
        )
        data = pulumi.Output.all(certificates, args.trust_bundle).apply(
            lambda parts: config_data(args.routes, parts[0], parts[1])
        )
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=args.namespace),
            data=data,
            opts=pulumi.ResourceOptions(parent=self),
        )
        digest = pulumi.Output.all(data, args.server_cert).apply(lambda parts: checksum(parts[0], parts[1]))
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=args.namespace, labels=LABELS),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=LABELS),
                template=_pod_template(args, digest),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.config_map]),
        )
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=args.namespace),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=MAX_UNAVAILABLE,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=LABELS),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.fences = [_fence(name, backend, args.namespace, self) for backend in args.backends]
        self.register_outputs({"configMap": self.config_map.metadata.name, "deployment": self.deployment.metadata.name})


def _pod_template(args: FrontDoorArgs, digest: pulumi.Input[str]) -> k8s.core.v1.PodTemplateSpecArgs:
    volumes = [
        k8s.core.v1.VolumeArgs(name="config", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=NAME)),
        k8s.core.v1.VolumeArgs(
            name="tls",
            secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=args.server_secret, default_mode=SECRET_MODE),
        ),
        k8s.core.v1.VolumeArgs(name="run", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=RUNTIME_LIMIT)),
    ]
    mounts = [
        k8s.core.v1.VolumeMountArgs(name="config", mount_path=CONFIG_DIR, read_only=True),
        k8s.core.v1.VolumeMountArgs(name="tls", mount_path=TLS_DIR, read_only=True),
        k8s.core.v1.VolumeMountArgs(name="run", mount_path=RUNTIME_DIR),
    ]
    first_port = args.routes[0].port
    probe = k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=first_port), period_seconds=10)
    container = k8s.core.v1.ContainerArgs(
        name="nginx",
        image=IMAGE,
        command=["nginx", "-c", f"{CONFIG_DIR}/{CONFIG_FILE}", "-g", "daemon off;"],
        ports=[k8s.core.v1.ContainerPortArgs(name=r.signal, container_port=r.port) for r in args.routes],
        volume_mounts=mounts,
        readiness_probe=probe,
        liveness_probe=probe,
        resources=RESOURCES,
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        ),
    )
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            labels={**args.pod_labels, **LABELS}, annotations={CHECKSUM_ANNOTATION: digest}
        ),
        spec=k8s.core.v1.PodSpecArgs(
            containers=[container],
            volumes=volumes,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True, seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")
            ),
            topology_spread_constraints=[dict(constraint) for constraint in args.spread],
        ),
    )


def _fence(name: str, backend: Backend, namespace: pulumi.Input[str], parent: pulumi.Resource) -> k8s.networking.v1.NetworkPolicy:
    peers = [LABELS, dict(backend.pods), *[dict(p) for p in backend.peers]]
    return k8s.networking.v1.NetworkPolicy(
        f"{name}-fence-{backend.name}",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=f"obsfleet-fence-{backend.name}", namespace=namespace),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(backend.pods)),
            policy_types=["Ingress"],
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=p))
                        for p in peers
                    ]
                )
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
