"""The hub Alertmanager's configuration, built from `obsfleet:alerting.receivers`.

Each receiver's URL or routing key is a secret config value (`obsfleet:<receiver.secret>`): the
rendered file therefore holds secrets and is delivered as a Kubernetes Secret that the
Alertmanager resource names (`configSecret`), never as Helm values. The builder itself is pure
so tests render it with fake URLs and run the real `amtool check-config` on it.

Every alert goes to every configured receiver (a hub has one on-call team per jurisdiction);
the kube-prometheus-stack heartbeat alerts go nowhere. A silent edge inhibits its own
remote-write alerts, and an expiring certificate its renewal reminder: same news, less precise.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from components.prometheus_tls import to_yaml
from components.settings import Receiver

NULL_RECEIVER = "null"
CONFIG_KEY = "alertmanager.yaml"
"""The key the operator reads from the config Secret."""
# Always-firing heartbeats of the chart's default rules: meant for a dead-man's switch, not a pager.
HEARTBEATS = ("Watchdog", "InfoInhibitor")


def _receiver(receiver: Receiver, credential: str) -> dict[str, Any]:
    if receiver.type == "slack":
        config: dict[str, Any] = {"api_url": credential, "channel": receiver.channel}
    elif receiver.type == "pagerduty":
        config = {"routing_key": credential}
    else:
        config = {"url": credential}
    config["send_resolved"] = True
    return {"name": receiver.name, f"{receiver.type}_configs": [config]}


def alertmanager_config(receivers: Sequence[Receiver], credentials: Mapping[str, str]) -> dict[str, Any]:
    """Alertmanager configuration; `credentials` maps each receiver's `secret` key to its value."""
    missing = sorted({r.secret for r in receivers} - set(credentials))
    if missing:
        raise ValueError(f"no value for secret config key(s): {', '.join(f'obsfleet:{k}' for k in missing)}")
    routes: list[dict[str, Any]] = [
        {"receiver": NULL_RECEIVER, "matchers": [f'alertname=~"{"|".join(HEARTBEATS)}"']}
    ]
    routes += [{"receiver": r.name, "continue": True} for r in receivers]
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": NULL_RECEIVER,
            "group_by": ["alertname", "cluster"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "inhibit_rules": [
            {
                "source_matchers": ['alertname="ObsfleetEdgeSilent"'],
                "target_matchers": ['alertname=~"ObsfleetEdgeRemoteWrite.*"'],
                "equal": ["cluster"],
            },
            {
                "source_matchers": ['alertname="ObsfleetCertificateExpiring"'],
                "target_matchers": ['alertname="ObsfleetCertificateRenewalDue"'],
                "equal": ["certificate"],
            },
        ],
        "receivers": [{"name": NULL_RECEIVER}] + [_receiver(r, credentials[r.secret]) for r in receivers],
    }


render = to_yaml
"""The rendered alertmanager.yaml: keys in the order the config builds them."""
