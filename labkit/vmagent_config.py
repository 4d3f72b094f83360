"""vmagent's command line for a lab or bench running the real binary from files: the program's
flags (components/vmagent_config.py, what the chart's pod runs) plus the scrape config file and
the buffer directory, which the chart sets itself."""

from __future__ import annotations

from typing import Optional

from components.prometheus_tls import TlsFiles
from components.settings import EdgeSettings
from components.vmagent_config import Flags, global_flags, remote_write
from components.vmagent_sizing import VmagentSizing


def argv(flags: Flags) -> list[str]:
    """Command-line arguments for `flags` (a list value repeats its flag)."""
    args = []
    for name, value in flags.items():
        for item in value if isinstance(value, list) else [value]:
            args.append(f"-{name}={item}")
    return args


def command_line(
    settings: EdgeSettings,
    sizing: VmagentSizing,
    hub_url: str,
    client: TlsFiles,
    *,
    config_file: str,
    data_path: str,
    address: Optional[str] = None,
) -> list[str]:
    """vmagent's arguments for this edge reading `config_file` and buffering under `data_path`."""
    rw = {f"remoteWrite.{name}": value for name, value in remote_write(settings, sizing, hub_url, client, address=address).items()}
    return argv({**rw, **global_flags(settings, sizing), "promscrape.config": config_file, "remoteWrite.tmpDataPath": data_path})
