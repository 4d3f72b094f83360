"""The edge side of the vmagent labs: the real vmagent with the program's command line for the
labs' edge (`mtls.EDGE`), scraping itself and the synthetic exporter."""

from __future__ import annotations

from typing import Optional

from components import vmagent_sizing
from components.prometheus_tls import TlsFiles, to_yaml
from components.settings import EdgeSettings
from components.vmagent_config import scrape_config
from components.vmagent_sizing import VmagentSizing
from labkit.vmagent_config import command_line
from review import engine
from tests.lab.agent_lab import lab_settings
from tests.lab.mtls import Hub
from tests.lab.processes import Launcher, Prometheus, free_port


def start_vmagent(
    launcher: Launcher,
    name: str,
    edge: engine.PreviewResult,
    hub: Hub,
    client: TlsFiles,
    targets: list[str],
    extra_flags: tuple[str, ...] = (),
    without: tuple[str, ...] = (),
    settings: Optional[EdgeSettings] = None,
    sizing: Optional[VmagentSizing] = None,
) -> Prometheus:
    """vmagent with the program's command line for the lab's edge (`settings`, default the labs'
    load; `sizing`, default the program's for them), scraping itself and `targets`; `without`:
    prefixes of rendered arguments to leave out."""
    settings = settings or lab_settings(agent="vmagent")
    workdir = launcher.workdir
    port = free_port()
    jobs = [{"job_name": "vmagent", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}]
    if targets:
        jobs.append({"job_name": "synthetic", "static_configs": [{"targets": targets}]})
    (workdir / f"{name}.yml").write_text(to_yaml(scrape_config(settings, jobs)))
    args = command_line(
        settings,
        sizing or vmagent_sizing.for_settings(settings),
        edge.outputs["remoteWriteUrl"],
        client,
        config_file=f"{name}.yml",
        data_path=f"{name}-data",
        address=hub.address,
    )
    kept = [arg for arg in args if not arg.startswith(without)] if without else args
    process = launcher.start_vmagent(name, *kept, *extra_flags, port=port)
    process.wait_ready_http()
    return process
