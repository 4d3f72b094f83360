"""Lab support: what the labs (tests/lab) and the benchmarks (bench/) share to run real Prometheus
and vmagent binaries on loopback: a synthetic exporter, metric queries, the agent's file config
and the hub's web config rendered from the program's own functions.

Never imported by the product (components, review, policies); tests and bench import it, never
each other.
"""
