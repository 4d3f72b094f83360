"""vmagent's remote write and scrape config for an edge: what the victoria-metrics-agent chart runs.

One source for the chart values (components/values/edge_vmagent.py) and for the labs and benches
running the real binary from files: the remote-write flags of the hub's URL (mTLS files, server
name, tenant header, disk buffer cap), the flags every sample goes out with (the edge's identity
labels, the queue count), and the scrape config around a list of jobs.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence
from urllib.parse import urlsplit, urlunsplit

from components.edge_sizing import duration
from components.prometheus_tls import TlsFiles
from components.settings import EdgeSettings
from components.values.edge_common import external_labels, tenant_headers
from components.vmagent_sizing import VmagentSizing

Flags = dict[str, Any]
"""Flag name (without the leading dash) -> value; a list value is the flag repeated."""


def remote_write(
    settings: EdgeSettings, sizing: VmagentSizing, hub_url: str, client: TlsFiles, *, address: Optional[str] = None
) -> Flags:
    """The `-remoteWrite.*` flags of the one hub URL, without their `remoteWrite.` prefix (the
    chart's `remoteWrite[]` item shape).

    vmagent verifies the hub's certificate against `client.ca_file` for the URL's hostname;
    `address` (host:port) reaches the hub elsewhere (a lab on loopback), still verified for it.
    """
    url = urlsplit(hub_url)
    if url.scheme != "https" or not url.hostname:
        raise ValueError(f"remote write to the hub must be https://<host>/...: {hub_url!r}")
    if client.cert_file is None or client.key_file is None:
        raise ValueError("vmagent ships to the hub with the edge's client certificate and key")
    return {
        "url": urlunsplit(url._replace(netloc=address)) if address else hub_url,
        "tlsCAFile": client.ca_file,
        "tlsCertFile": client.cert_file,
        "tlsKeyFile": client.key_file,
        "tlsServerName": url.hostname,
        # `name:value`, several joined by `^^` (vmagent's syntax).
        "headers": "^^".join(f"{name}:{value}" for name, value in tenant_headers(settings).items()),
        "maxDiskUsagePerURL": disk_size(sizing.max_disk_usage_bytes),
    }


def disk_size(size_bytes: int) -> str:
    """A vmagent size flag in whole MiB (rounded up). A string: Helm renders a large number as a
    float in the pod's arguments (`5.55e+08`), which rounds a large one."""
    return f"{math.ceil(size_bytes / 2**20)}MiB"


def global_flags(settings: EdgeSettings, sizing: VmagentSizing) -> Flags:
    """Flags for all remote writes: the edge's identity on every sample, and the queue count."""
    return {
        "remoteWrite.label": [f"{name}={value}" for name, value in external_labels(settings).items()],
        "remoteWrite.queues": sizing.queues,
    }


def scrape_config(settings: EdgeSettings, jobs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`-promscrape.config`: `jobs` at the edge's scrape interval."""
    return {
        "global": {"scrape_interval": duration(settings.scrape_interval_seconds)},
        "scrape_configs": [dict(job) for job in jobs],
    }

