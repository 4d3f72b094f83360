"""The hub's front door in the lab: Debian nginx running what the program renders, on loopback.

The allow-list (`tenants.map`) and the trust bundle are the files of the front door's ConfigMap in
the hub's preview; nginx.conf is rendered by the same function from the same routes
(`hub_front_door.routes`), with only the addresses changed: loopback ports instead of the pod's,
the lab's upstreams instead of in-cluster Service names, the lab's directory instead of the pod's
mounts. The server certificate and key are the hub's ingest Secret.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from components import front_door, pki
from components.front_door_config import (
    CONFIG_FILE,
    SERVER_CERT_FILE,
    SERVER_KEY_FILE,
    TENANTS_FILE,
    TRUST_BUNDLE_FILE,
    Layout,
    nginx_conf,
)
from components.hub_plan import HubPlan
from components.settings import HubSettings
from components.values import hub_front_door
from review import engine
from review.stacks import StackConfig
from tests.lab.preview_state import component_state, server_secret
from tests.lab.processes import NGINX, Launcher, Process, free_port, require_binary, wait_for

READY_TIMEOUT = 10  # seconds for nginx to listen


def preview_files(hub: engine.PreviewResult) -> dict[str, str]:
    """The front door ConfigMap's files as the hub's preview declares them."""
    return component_state(hub, front_door.TYPE, "kubernetes:core/v1:ConfigMap", "-config")["data"]


def hub_settings(stack: StackConfig) -> HubSettings:
    settings = stack.settings
    assert isinstance(settings, HubSettings)
    return settings


@dataclass
class Door:
    process: Process
    ports: dict[str, int]
    """Signal -> loopback port of its TLS listener."""
    directory: Path

    def address(self, signal: str) -> str:
        return f"127.0.0.1:{self.ports[signal]}"

    def reload(self, tenants: str) -> None:
        """Serve `tenants` as the allow-list from now on, as a hub update does: the file rewritten,
        nginx reloaded (new workers, new TLS contexts); returns once only new workers run."""
        (self.directory / TENANTS_FILE).write_text(tenants)
        master = self.process.process.pid
        before = _children(master)
        os.kill(master, signal.SIGHUP)

        def renewed() -> Optional[bool]:
            self.process.assert_running()
            now = _children(master)
            return True if now and not now & before else None

        wait_for(f"{self.process.name} to reload", renewed, READY_TIMEOUT)


def _children(pid: int) -> set[int]:
    """PIDs whose parent is `pid` (nginx's workers)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
        if parent == pid:
            found.add(int(stat.parent.name))
    return found


def start(
    launcher: Launcher,
    hub: engine.PreviewResult,
    upstreams: Mapping[str, str],
    name: str = "front-door",
    tenants: Optional[str] = None,
) -> Door:
    """nginx serving `hub`'s front door for the signals in `upstreams` (signal -> host:port).

    `tenants`: an allow-list to use instead of the preview's (what a later hub update renders)."""
    nginx = require_binary(NGINX, "nginx-light")
    files = preview_files(hub)
    directory = launcher.workdir / name
    server = server_secret(hub)
    directory.mkdir(parents=True, exist_ok=True)
    for filename, text in {
        TENANTS_FILE: files[TENANTS_FILE] if tenants is None else tenants,
        TRUST_BUNDLE_FILE: files[TRUST_BUNDLE_FILE],
        SERVER_CERT_FILE: server[pki.TLS_CERT],
        SERVER_KEY_FILE: server[pki.TLS_KEY],
    }.items():
        (directory / filename).write_text(text)
        (directory / filename).chmod(0o600)
    pod_routes = hub_front_door.routes(HubPlan.of(hub_settings(hub.config)))
    # The preview's nginx.conf is this function over these routes: the lab changes addresses only.
    assert files[CONFIG_FILE] == nginx_conf(pod_routes, front_door.POD_LAYOUT)
    routes = [
        dataclasses.replace(route, port=free_port(), upstream=upstreams[route.signal])
        for route in pod_routes
        if route.signal in upstreams
    ]
    layout = Layout(config_dir=str(directory), tls_dir=str(directory), runtime_dir=str(directory), listen_host="127.0.0.1")
    (directory / CONFIG_FILE).write_text(nginx_conf(routes, layout))
    # As root (a CI container), workers would drop to `nobody` and lose the owner-only directory.
    globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    process = launcher.spawn(name, nginx, "-p", str(directory), "-c", str(directory / CONFIG_FILE), "-e", "stderr", "-g", globals_)
    door = Door(process, {r.signal: r.port for r in routes}, directory)
    for signal in door.ports:
        wait_for(f"{name} to listen for {signal}", lambda: _listening(door, signal), READY_TIMEOUT)
    return door


def _listening(door: Door, signal: str) -> Optional[bool]:
    door.process.assert_running()
    with socket.create_connection(("127.0.0.1", door.ports[signal]), timeout=1):
        return True
