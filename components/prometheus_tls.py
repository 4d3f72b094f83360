"""Prometheus mTLS settings rendered from the program's outputs: an agent's remote_write to the hub.

Pure functions over file paths and URLs. Whoever runs Prometheus from files (the labs, benches)
writes the PEMs from the edge's Secret next to these documents; in the clusters, the charts mount
the same Secret (components/pki.py) at their own paths. The hub side of the mTLS is its front door
(components/front_door_config.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit, urlunsplit

import yaml


@dataclass(frozen=True)
class TlsFiles:
    """Paths of one party's PEM files; a client without `cert_file`/`key_file` presents no certificate."""

    ca_file: str
    cert_file: Optional[str] = None
    key_file: Optional[str] = None


def remote_write(
    hub_url: str,
    client: TlsFiles,
    *,
    address: Optional[str] = None,
    headers: Optional[Mapping[str, str]] = None,
) -> dict[str, Any]:
    """One `remote_write` entry to the hub's `remoteWriteUrl` over mTLS.

    `address` (host:port) sends to another address than the URL's host, e.g. a hub on loopback;
    the hub certificate is still verified for the URL's hostname (`server_name`).
    """
    url = urlsplit(hub_url)
    if url.scheme != "https" or not url.hostname:
        raise ValueError(f"remote write to the hub must be https://<host>/...: {hub_url!r}")
    tls: dict[str, Any] = {"ca_file": client.ca_file, "server_name": url.hostname}
    if client.cert_file is not None:
        tls.update(cert_file=client.cert_file, key_file=client.key_file)
    target = urlunsplit(url._replace(netloc=address)) if address else hub_url
    entry: dict[str, Any] = {"url": target, "tls_config": tls}
    if headers:
        entry["headers"] = dict(headers)
    return entry


def to_yaml(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), sort_keys=False)
