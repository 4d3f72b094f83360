"""Helm values: pure functions from settings (and plain values) to chart values dicts.

Edge charts: edge_*.py. Hub charts: hub_*.py (hub_common.py holds what they share; common.py what
edge and hub charts share). Tests check every key path each function sets against the chart's
own values.yaml (docs/charts.md).
"""
