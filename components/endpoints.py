"""The hub's ingest hostnames and URLs: one definition for the server certificate, the front door's
LoadBalancer Services and their DNS names, and the stack outputs."""

from __future__ import annotations

from dataclasses import dataclass

from components.hub_plan import HubPlan


@dataclass(frozen=True)
class IngestEndpoints:
    metrics_host: str
    otlp_host: str
    logs_host: str
    remote_write_path: str
    """The metrics store's remote-write path (`HubPlan.remote_write_path`)."""

    @property
    def hosts(self) -> list[str]:
        return [self.metrics_host, self.otlp_host, self.logs_host]

    @property
    def remote_write_url(self) -> str:
        return f"https://{self.metrics_host}{self.remote_write_path}"

    @property
    def otlp_endpoint(self) -> str:
        """OTLP/HTTP base URL of Tempo's receiver (exporters append /v1/traces)."""
        return f"https://{self.otlp_host}"

    @property
    def loki_push_url(self) -> str:
        """Loki's native OTLP endpoint base (exporters append /v1/logs)."""
        return f"https://{self.logs_host}/otlp"


def ingest_endpoints(plan: HubPlan) -> IngestEndpoints:
    domain = plan.settings.domain
    return IngestEndpoints(f"metrics.{domain}", f"otlp.{domain}", f"logs.{domain}", plan.remote_write_path)
