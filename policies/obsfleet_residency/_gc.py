"""Garbage-collector settings for the pack's Analyzer server process.

For every stack policy the SDK rebuilds the whole stack as dicts and proxies (AnalyzeStack), a
large heap that stays alive until that policy returns and holds no garbage cycles. CPython's
default thresholds (700, 10, 10) make the cyclic collector rescan it again and again. Measured with
bench/audit_bench.py's 10,000-resource export on the shared 2-core box (2 audits per setting): pack
process CPU per audit 14.1-14.8 s with the defaults (gc.callbacks timed 45 full collections,
~11 s per audit), 8.8-9.5 s with these thresholds (no full collection, ~1.5 s per audit).
Reference counting still frees everything else at once.
"""

import gc

THRESHOLDS = (10_000, 50, 100)


def collect_rarely() -> None:
    gc.set_threshold(*THRESHOLDS)
