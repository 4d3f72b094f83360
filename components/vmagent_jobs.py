"""vmagent's scrape jobs on an edge: the targets the Prometheus agent's monitors select, found with
vmagent's own Kubernetes discovery.

On a Prometheus edge, prometheus-operator turns kube-prometheus-stack's ServiceMonitors and the
collector's PodMonitor into scrape jobs. A vmagent edge runs no operator; each job below selects
the same endpoints with the same `job` label (dashboards and rules at the hub see one fleet):

| monitor on a Prometheus edge | job |
|---|---|
| kube-prometheus-stack `apiserver` | `apiserver`: the `default/kubernetes` endpoints, port `https` |
| `kubelet` (/metrics, /metrics/cadvisor, /metrics/probes) | `kubelet`: every node's kubelet port, three paths |
| `coredns` | `coredns`: kube-system pods `k8s-app=kube-dns`, port 9153 |
| `kube-proxy` | `kube-proxy`: kube-system pods `k8s-app=kube-proxy`, port 10249 |
| `kube-state-metrics`, `node-exporter` | the subcharts' Services, port by name |
| the agent itself | `vmagent` (its own /metrics) |
| the collector's PodMonitor | the collector's pods, port `metrics` |

What differs: ServiceMonitors and PodMonitors that other releases add to the cluster are not
read (that takes prometheus-operator or victoria-metrics-operator); on a vmagent edge their
targets go unscraped. prometheus-operator's own metrics are gone with the operator.
"""

from __future__ import annotations

from typing import Any

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
SELF_ADDRESS = "localhost:8429"
"""The chart's listen address (`http[0].value` `:8429`)."""
KUBELET_PATHS = ("/metrics", "/metrics/cadvisor", "/metrics/probes")
COREDNS_PORT = 9153
KUBE_PROXY_PORT = 10249
KUBE_STATE_METRICS = ("kube-state-metrics", "http")
"""Service label `app.kubernetes.io/name` and port name of kube-prometheus-stack's subchart."""
NODE_EXPORTER = ("prometheus-node-exporter", "http-metrics")
COLLECTOR = ("opentelemetry-collector", "metrics")
"""Pod label `app.kubernetes.io/name` and container port name of the collector chart's pods."""

Job = dict[str, Any]


def _service_account_auth(server_name: str | None = None) -> Job:
    """HTTPS with the pod's service-account token, as kube-prometheus-stack's monitors do."""
    tls: dict[str, Any] = {"ca_file": f"{SERVICE_ACCOUNT_DIR}/ca.crt"}
    if server_name:
        tls["server_name"] = server_name
    else:
        # Kubelet serving certificates are self-signed on most clusters (kube-prometheus-stack
        # skips their verification too); the token still authenticates vmagent to the kubelet.
        tls["insecure_skip_verify"] = True
    return {"scheme": "https", "tls_config": tls, "bearer_token_file": f"{SERVICE_ACCOUNT_DIR}/token"}


def _keep(source: str, regex: str) -> dict[str, Any]:
    return {"source_labels": [source], "action": "keep", "regex": regex}


def _copy(source: str, target: str) -> dict[str, Any]:
    return {"source_labels": [source], "target_label": target}


_POD_LABELS = [
    _copy("__meta_kubernetes_namespace", "namespace"),
    _copy("__meta_kubernetes_pod_name", "pod"),
    _copy("__meta_kubernetes_pod_node_name", "node"),
]


def _endpoints_job(job: str, namespace: str, app: str, port: str, **extra: Any) -> Job:
    """Endpoints of the Services labelled `app.kubernetes.io/name=app` in `namespace`, port by name."""
    return {
        "job_name": job,
        "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": [namespace]}}],
        "relabel_configs": [
            _keep("__meta_kubernetes_service_label_app_kubernetes_io_name", app),
            _keep("__meta_kubernetes_endpoint_port_name", port),
            *_POD_LABELS,
            _copy("__meta_kubernetes_service_name", "service"),
        ],
        **extra,
    }


def _kube_system_pods_job(job: str, k8s_app: str, port: int) -> Job:
    """kube-system pods labelled `k8s-app`, at `port` on the pod IP (host-network pods declare none)."""
    return {
        "job_name": job,
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": ["kube-system"]}}],
        "relabel_configs": [
            _keep("__meta_kubernetes_pod_label_k8s_app", k8s_app),
            {"source_labels": ["__meta_kubernetes_pod_ip"], "target_label": "__address__", "replacement": f"$1:{port}"},
            *_POD_LABELS,
        ],
    }


def cluster_jobs(namespace: str) -> list[Job]:
    """Every job of the table above; `namespace` is the edge's (exporters and collector)."""
    kubelet = [
        {
            "job_name": "kubelet" if path == "/metrics" else f"kubelet{path.replace('/metrics/', '-')}",
            "metrics_path": path,
            "honor_labels": True,
            "kubernetes_sd_configs": [{"role": "node"}],
            "relabel_configs": [
                _copy("__meta_kubernetes_node_name", "node"),
                _copy("__metrics_path__", "metrics_path"),
                {"target_label": "job", "replacement": "kubelet"},
            ],
            **_service_account_auth(),
        }
        for path in KUBELET_PATHS
    ]
    return [
        {"job_name": "vmagent", "static_configs": [{"targets": [SELF_ADDRESS]}]},
        {
            "job_name": "apiserver",
            "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": ["default"]}}],
            "relabel_configs": [
                _keep("__meta_kubernetes_service_name", "kubernetes"),
                _keep("__meta_kubernetes_endpoint_port_name", "https"),
            ],
            **_service_account_auth(server_name="kubernetes"),
        },
        *kubelet,
        _kube_system_pods_job("coredns", "kube-dns", COREDNS_PORT),
        _kube_system_pods_job("kube-proxy", "kube-proxy", KUBE_PROXY_PORT),
        _endpoints_job("kube-state-metrics", namespace, *KUBE_STATE_METRICS, honor_labels=True),
        _endpoints_job("node-exporter", namespace, *NODE_EXPORTER),
        {
            "job_name": "opentelemetry-collector",
            "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [namespace]}}],
            "relabel_configs": [
                _keep("__meta_kubernetes_pod_label_app_kubernetes_io_name", COLLECTOR[0]),
                _keep("__meta_kubernetes_pod_container_port_name", COLLECTOR[1]),
                *_POD_LABELS,
            ],
        },
    ]
