"""Program overhead (not a test): the hub program vs bare Pulumi programs registering the same resources.

Per size (hubs with 10 / 100 / 500 edges: labkit/scaled_hub.py's `scaled_hub`), in one process:
  program  the real `__main__.py` for the scaled hub, through `review.engine.preview`
  sdk      a bare program: the program's own registrations replayed from its recording through the
           provider SDKs' classes (`pulumi_tls.CertRequest`, `pulumi_kubernetes...Secret`, ...),
           with the same names, parents, providers, dependencies and literal inputs (secret
           inputs as secrets), and the same stack outputs. What the same resources cost anyone
           writing a Pulumi program with these SDKs, minus all our logic.
  custom   the same replay as plain `pulumi.CustomResource`s: the SDK's floor (no typed classes,
           so no per-property type translation and no Output per declared output property)
Providers and components are plain SDK classes in both replays. Every program runs under
`review.engine.run_program` (RecordingMonitor + FleetMocks), interleaved, best of `--rounds`
(the box is shared: the minimum is the run least disturbed by other work); each run starts from a
collected heap and its time includes collecting its own garbage. Each replay is checked to
register exactly the program's resources and inputs.

Why a replay rather than N ConfigMaps: with the same type tokens and inputs the mocks do the same
work for all three. That matters because review/mock_tls.py generates real keys and signs real
certificates (3 pulumi-tls resources per edge), which a program of ConfigMaps would not pay, and
because the 500-edge hub's inputs are large (a ~230 KB ConfigMap, ~100 KB Helm values) and
serialising them is SDK work too. The time the TLS mocks take (CPU time of the executor threads
running them) is reported, and a second ratio leaves it out of both sides.

    venv/bin/python bench/program_overhead.py [--edges 10 100 500] [--rounds 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import importlib
import inspect
import io
import pstats
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
from pulumi.runtime.rpc import get_resource_module  # noqa: E402

from bench._lab import box_cpu, busy_cores, table, wait_for_quiet  # noqa: E402 (needs ROOT on sys.path)
from labkit.scaled_hub import edge_requests, scaled_hub  # noqa: E402
from review import engine, mock_registry  # noqa: E402
from review.fleet_review import References  # noqa: E402
from review.stacks import StackConfig  # noqa: E402

TARGET_RATIO = 1.3
TARGET_EDGES, TARGET_SECONDS = 500, 10.0
PROVIDER_PREFIX = "pulumi:providers:"
VARIANTS = ("program", "sdk", "custom")


# --- time spent in the TLS mocks ------------------------------------------------------------------

class MockClock:
    """CPU seconds spent in the pulumi-tls mock functions (run in the SDK's executor threads)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()

    def wrap(self, compute: mock_registry.Computed) -> mock_registry.Computed:
        @functools.wraps(compute)
        def timed(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
            started = time.thread_time()
            try:
                return compute(args)
            finally:
                with self._lock:
                    self.seconds += time.thread_time() - started

        return timed

    def take(self) -> float:
        with self._lock:
            seconds, self.seconds = self.seconds, 0.0
        return seconds


def time_tls_mocks() -> MockClock:
    clock = MockClock()
    for type_, compute in list(mock_registry.COMPUTED.items()):
        if type_.startswith("tls:"):
            mock_registry.COMPUTED[type_] = clock.wrap(compute)
    return clock


# --- the bare programs ------------------------------------------------------------------------------

def _has_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return value == engine.SECRET


def _inputs(record: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The record's inputs with masked values revealed (from the mock state) and kept secret."""
    return {
        key: pulumi.Output.secret(state[key]) if _has_secret(value) else value
        for key, value in record.get("inputs", {}).items()
    }


# Concrete subclasses, as every SDK class is: the SDK records where a resource was declared (a stack
# trace per registration) only when a subclass' __init__ called the base class.
class Custom(pulumi.CustomResource):
    def __init__(self, type_: str, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions):
        super().__init__(type_, name, props, opts)


class Provider(pulumi.ProviderResource):
    def __init__(self, package: str, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions):
        super().__init__(package, name, props, opts)


class Component(pulumi.ComponentResource):
    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions):
        super().__init__(type_, name, None, opts)


@functools.cache
def sdk_class(type_: str) -> tuple[type, frozenset[str]]:
    """The provider SDK class registered for a type token, and its keyword arguments."""
    package, module, _ = type_.split(":")
    info = get_resource_module(package, module, "").mod_info  # every generated SDK's _utilities.Module
    cls = getattr(importlib.import_module(info["fqn"]), info["classes"][type_])
    return cls, frozenset(inspect.signature(cls._internal_init).parameters)


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def declare_with_sdk(type_: str, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.Resource:
    cls, parameters = sdk_class(type_)
    kwargs = {_snake(key): value for key, value in props.items()}
    unknown = set(kwargs) - parameters
    if unknown:
        raise SystemExit(f"{type_}: {cls.__name__} takes no {sorted(unknown)}")
    return cls(name, opts=opts, **kwargs)


def bare_program(recording: engine.Recording, *, sdk: bool) -> Callable[[], None]:
    """A program declaring exactly what `recording` registered, with no logic of its own."""
    records = [r for r in recording.resources if r["type"] != engine.ROOT_TYPE]
    declare = declare_with_sdk if sdk else Custom

    def program() -> None:
        declared: dict[str, pulumi.Resource] = {}
        components: list[pulumi.ComponentResource] = []
        root = engine.root_urn(pulumi.get_stack())
        for record in records:  # registration order: parents and providers come first
            urn, type_ = record["urn"], record["type"]
            parent = record.get("parent")
            opts = pulumi.ResourceOptions(
                parent=declared[parent] if parent and parent != root else None,
                provider=declared.get(record.get("provider", "").rsplit("::", 1)[0]),
                depends_on=[declared[d] for d in record.get("dependencies", ()) if d in declared],
            )
            name = urn.rsplit("::", 1)[1]
            if not record["custom"]:
                declared[urn] = component = Component(type_, name, opts)
                components.append(component)
            elif type_.startswith(PROVIDER_PREFIX):
                declared[urn] = Provider(type_[len(PROVIDER_PREFIX):], name, _inputs(record, recording.state[urn]), opts)
            else:
                declared[urn] = declare(type_, name, _inputs(record, recording.state[urn]), opts)
        for component in components:
            component.register_outputs({})
        for key, value in recording.outputs.items():
            pulumi.export(key, pulumi.Output.secret(value) if key in recording.secret_outputs else value)

    return program


def check_replay(original: engine.Recording, replay: engine.Recording, variant: str) -> None:
    """The replay registered the same resources with the same inputs (secrets masked alike)."""
    def by_urn(recording: engine.Recording) -> dict[str, Any]:
        return {r["urn"]: r.get("inputs") for r in recording.resources if r["type"] != engine.ROOT_TYPE}

    expected, got = by_urn(original), by_urn(replay)
    differ = sorted(urn for urn in expected.keys() | got.keys() if expected.get(urn) != got.get(urn))
    if differ:
        raise SystemExit(f"the {variant} replay differs from the program in {len(differ)} resources, e.g. {differ[0]}")


# --- measurement ----------------------------------------------------------------------------------

@dataclass
class Run:
    seconds: float
    tls_seconds: float
    other_cores: float
    """Cores the rest of the box kept busy meanwhile (busy cores minus this process')."""

    @property
    def without_tls(self) -> float:
        return self.seconds - self.tls_seconds


@dataclass
class Size:
    edges: int
    resources: int = 0
    """Registrations (custom resources, providers and components), the same for every variant."""
    runs: dict[str, list[Run]] = field(default_factory=lambda: {v: [] for v in VARIANTS})

    def best(self, variant: str) -> Run:
        return min(self.runs[variant], key=lambda r: r.seconds)

    def ratio(self, baseline: str, without_tls: bool = False) -> float:
        program, bare = self.best("program"), self.best(baseline)
        if without_tls:
            return program.without_tls / bare.without_tls
        return program.seconds / bare.seconds


def timed(clock: MockClock, run: Callable[[], engine.Recording]) -> tuple[Run, engine.Recording]:
    """One run, from a collected heap (no run pays for its predecessors' garbage), including the
    collection of its own garbage: review.engine defers it to the end of the run, when everything
    the run allocated is still in the youngest generation."""
    gc.collect()
    clock.take()
    box, cpu, started = box_cpu(), time.process_time(), time.perf_counter()
    recording = run()
    gc.collect(0)
    seconds = time.perf_counter() - started
    other = max(0.0, busy_cores(box, box_cpu()) - (time.process_time() - cpu) / seconds)
    return Run(seconds, clock.take(), other), recording


def measure(edges: int, rounds: int, clock: MockClock, quiet_wait: float) -> Size:
    stack = scaled_hub(edges)
    references = edge_requests(stack)
    size = Size(edges)
    if quiet_wait > 0:
        wait_for_quiet(quiet_wait)
    for round_ in range(rounds):
        run, recording = timed(clock, lambda: engine.preview(stack, references))
        size.runs["program"].append(run)
        for variant in ("sdk", "custom"):
            program = bare_program(recording, sdk=variant == "sdk")
            run, replay = timed(clock, lambda: replay_run(stack, program, references))
            size.runs[variant].append(run)
            if round_ == 0:
                check_replay(recording, replay, variant)
        size.resources = len(recording.resources) - 1  # the Stack itself is the SDK's, in all three
    return size


def replay_run(stack: StackConfig, program: Callable[[], None], references: References) -> engine.Recording:
    return engine.run_program(
        program, stack=stack.name, config=stack.engine_config, secret_keys=stack.secret_keys, references=references
    )


def profile(edges: int, top: int) -> str:
    """cProfile of one program run, our functions by cumulative time (main thread only: the mocks
    run in the SDK's executor threads and are not in it)."""
    stack = scaled_hub(edges)
    references = edge_requests(stack)
    profiler = cProfile.Profile()
    profiler.runcall(engine.preview, stack, references)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(rf"^{ROOT}/(components|review)/", top)
    return out.getvalue()


def report(sizes: Sequence[Size], rounds: int) -> None:
    def runs(size: Size, variant: str) -> str:
        return " ".join(f"{r.seconds:.2f}" for r in size.runs[variant])

    print(table(
        ["edges", "resources", "program s", "sdk s", "custom s", "TLS mocks s (program/sdk/custom)",
         "other work cores (program/sdk/custom)", "program runs s", "sdk runs s", "custom runs s"],
        [[s.edges, s.resources, *(f"{s.best(v).seconds:.2f}" for v in VARIANTS),
          "/".join(f"{s.best(v).tls_seconds:.2f}" for v in VARIANTS),
          "/".join(f"{s.best(v).other_cores:.2f}" for v in VARIANTS), *(runs(s, v) for v in VARIANTS)]
         for s in sizes]))
    for s in sizes:
        if s.edges == TARGET_EDGES:
            print(f"\n{s.edges}-edge hub: {s.best('program').seconds:.2f} s (target < {TARGET_SECONDS:g} s)")
    print(f"Ratios, best of {rounds} (target ≤ {TARGET_RATIO}); without the TLS mocks' time in brackets:")
    for s in sizes:
        print(f"  {s.edges:>4} edges, {s.resources:>5} resources: "
              f"program / sdk {s.ratio('sdk'):.2f} ({s.ratio('sdk', True):.2f})   "
              f"program / custom {s.ratio('custom'):.2f} ({s.ratio('custom', True):.2f})")


def main(argv: Optional[Sequence[str]] = None) -> int:
    summary, details = __doc__.split("\n\n", 1)
    parser = argparse.ArgumentParser(description=summary, epilog=details, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edges", type=int, nargs="+", default=[10, 100, 500], help="hub sizes (default 10 100 500)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each program per size; the best is kept (default 3)")
    parser.add_argument("--quiet-wait", type=float, default=30,
                        help="wait up to this long (s) for other work on the box to stop before each size "
                             "(default 30; 0: do not wait)")
    parser.add_argument("--profile", action="store_true", help="print a profile of the program at the largest size first")
    parser.add_argument("--top", type=int, default=30, help="functions --profile lists (default 30)")
    args = parser.parse_args(argv)

    clock = time_tls_mocks()
    # Imports (pulumi_aws alone takes seconds) and first-call caches would land on whichever ran first.
    measure(min(args.edges), 1, clock, 0)
    if args.profile:
        print(f"Profile of the {max(args.edges)}-edge program (our functions):\n{profile(max(args.edges), args.top)}")
    report([measure(edges, args.rounds, clock, args.quiet_wait) for edges in args.edges], args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
