"""Lab support shared by the labs (tests/lab) and the benchmarks (bench/): a synthetic exporter, a
reader of Prometheus metrics, the edge agent's file config and vmagent's command line, process
memory sampling, a hub scaled to N edges and where helm and the pinned charts are.

The product (components, review, policies, tools) never imports it; tests and bench import it and
never each other.
"""
