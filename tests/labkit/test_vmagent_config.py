"""labkit/vmagent_config.py: the labs' and benches' vmagent command line is the flags the chart
values give the pod, plus the files the chart sets itself."""

from __future__ import annotations

from components.values.edge_vmagent import chart_tls_files, vmagent_values
from components.vmagent_sizing import for_settings
from labkit.vmagent_config import argv, command_line
from tests.components.settings_samples import edge_settings

URL = "https://metrics.obs.eu.example.com/api/v1/write"


def test_flags_become_arguments_a_list_repeating_its_flag() -> None:
    assert argv({"a.b": 1, "label": ["x=1", "y=2"], "empty": ""}) == ["-a.b=1", "-label=x=1", "-label=y=2", "-empty="]


def test_the_command_line_is_what_the_chart_values_run() -> None:
    settings = edge_settings(agent="vmagent", seriesEstimate=80_000)
    sizing = for_settings(settings)
    values = vmagent_values(settings, sizing, URL, "obsfleet-hub-client-tls")
    [remote] = values["remoteWrite"]
    chart = {f"remoteWrite.{name}": value for name, value in remote.items()}
    expected = argv({**chart, **values["extraArgs"], "promscrape.config": "scrape.yml", "remoteWrite.tmpDataPath": "data"})
    assert command_line(settings, sizing, URL, chart_tls_files(), config_file="scrape.yml", data_path="data") == expected
    assert "-remoteWrite.label=cluster=edge-eu" in expected and "-remoteWrite.tlsServerName=metrics.obs.eu.example.com" in expected


def test_a_lab_address_keeps_the_hubs_name_for_verification() -> None:
    settings = edge_settings(agent="vmagent")
    args = command_line(settings, for_settings(settings), URL, chart_tls_files(), config_file="c", data_path="d",
                        address="127.0.0.1:9443")
    assert "-remoteWrite.url=https://127.0.0.1:9443/api/v1/write" in args
    assert "-remoteWrite.tlsServerName=metrics.obs.eu.example.com" in args
