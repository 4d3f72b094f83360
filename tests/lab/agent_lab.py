"""The edge side of the agent labs (outage, blackhole, restore, vmagent): `mtls.EDGE` declaring the
labs' load, and a Prometheus agent running the program's config with a scrape of the synthetic
exporter."""

from __future__ import annotations

from typing import Any, Optional

from components.edge_sizing import EdgeSizing
from components.prometheus_tls import to_yaml
from components.settings import EdgeSettings
from labkit.agent_config import agent_config, agent_environment, agent_flags
from labkit.exporter import Exporter
from review import engine
from tests.fixture_fleet import load
from tests.lab import mtls
from tests.lab.mtls import EDGE, Hub
from tests.lab.outage import Timing
from tests.lab.processes import Launcher, Prometheus, free_port

METRICS, LABELS = 20, 100
"""2,000 synthetic series."""
SCRAPE_INTERVAL_SECONDS = 5
TIMING = Timing(interval=SCRAPE_INTERVAL_SECONDS)
RETRIED = "prometheus_remote_storage_samples_retried_total"


def lab_settings(**changes: Any) -> EdgeSettings:
    """The edge stack declaring the labs' load, with `changes` (settings fields) on top."""
    settings = load(EDGE).settings
    assert isinstance(settings, EdgeSettings)
    return settings.model_copy(
        update={"series_estimate": METRICS * LABELS, "scrape_interval_seconds": SCRAPE_INTERVAL_SECONDS, **changes}
    )


def start_agent(
    launcher: Launcher,
    edge: engine.PreviewResult,
    hub: Hub,
    settings: EdgeSettings,
    sizing: EdgeSizing,
    exporter: Exporter,
    address: Optional[str] = None,
) -> Prometheus:
    """The program's agent config for `settings`, plus a scrape of the exporter (at the global
    interval), writing to the hub or to `address` (a proxy in front of it)."""
    workdir = launcher.workdir
    port = free_port()
    config = agent_config(
        settings,
        sizing,
        edge.outputs["remoteWriteUrl"],
        mtls.edge_credentials(edge).files(workdir / "agent-tls"),
        self_target=f"127.0.0.1:{port}",
        address=address or hub.address,
    )
    config["scrape_configs"].append({"job_name": "synthetic", "static_configs": [{"targets": [exporter.address]}]})
    (workdir / "agent.yml").write_text(to_yaml(config))
    agent = launcher.start(
        "agent", *agent_flags(sizing, "agent.yml", "agent-data"), port=port, env=agent_environment(sizing)
    )
    agent.wait_ready_http()
    return agent
