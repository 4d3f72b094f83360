"""Runs the real `__main__.py` for one stack under the Pulumi SDK's mocks and records what it declares.

Each stack runs in a fresh `contextvars.Context` (the SDK keeps its settings, config and root
stack in context variables), with config injected the way the engine does. Every registration
is recorded from the request the SDK sends (type, name, parent, provider, dependencies, inputs),
and the result is shaped like `pulumi stack export` (version 3) so it can be audited like one.
The same program and config always give the same export: registrations resolve concurrently, so
the export orders them by their dependencies and URN, not by arrival.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import hashlib
import heapq
import logging
import runpy
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import pulumi
from google.protobuf import json_format
from pulumi.output import Unknown
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import SETTINGS, get_root_resource, set_root_resource
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from review.errors import BadInput
from review.mocks import FleetMocks
from review.stacks import PROJECT, StackConfig, project_root

SECRET = "[secret]"
ROOT_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
UNKNOWN = rpc.UNKNOWN
SIG = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
ASSET_SIG = rpc._special_asset_sig
ARCHIVE_SIG = rpc._special_archive_sig


@dataclass
class Recording:
    """What one run of a program declared."""

    resources: list[dict[str, Any]]
    """Export-shaped resources, secrets masked."""
    outputs: dict[str, Any]
    """Stack outputs with real values (secrets included): what a StackReference sees."""
    secret_outputs: frozenset[str]
    state: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    """Provider state per URN with secrets revealed (`stack export --show-secrets`), for tests that
    need real key material; never written out."""

    def export(self) -> dict[str, Any]:
        """The run as a `pulumi stack export` document (secret values replaced by "[secret]")."""
        return {
            "version": 3,
            "deployment": {
                "manifest": {"time": "", "magic": "", "version": "pulumi-python-sdk offline review"},
                "resources": self.resources,
            },
        }

    @property
    def masked_outputs(self) -> dict[str, Any]:
        return {k: SECRET if k in self.secret_outputs else v for k, v in self.outputs.items()}


@dataclass(kw_only=True)
class PreviewResult(Recording):
    """One example stack's run of `__main__.py`."""

    stack: str
    seconds: float
    config: StackConfig = field(repr=False)


def mask(value: Any) -> Any:
    """Replace secret-wrapped values in a deserialised-from-Struct tree by "[secret]"."""
    if isinstance(value, dict):
        if value.get(SIG) == SECRET_SIG:
            return SECRET
        if value.get(SIG) == ASSET_SIG and isinstance(value.get("text"), str):
            return _text_asset(value["text"])
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Structs carry every number as a double
    return value


class RecordingMonitor(sdk_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping each registration's request in declaration order."""

    def __init__(self, mocks: sdk_mocks.Mocks, records: list[dict[str, Any]]):
        super().__init__(mocks)
        self.records = records

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        self._record(request, request.object, response.urn, response.id, custom=request.custom)
        return response

    def ReadResource(self, request):  # noqa: N802
        response = super().ReadResource(request)
        self._record(request, request.properties, response.urn, request.id, custom=True)
        return response

    def _record(self, request: Any, properties: Any, urn: str, resource_id: str, *, custom: bool) -> None:
        inputs = mask(json_format.MessageToDict(properties))
        registration = self.resources.get(urn)
        outputs = dict(registration.state) if registration else {}
        for name in getattr(request, "additionalSecretOutputs", []):
            if name in outputs:
                outputs[name] = SECRET
        if request.type == STACK_REFERENCE and isinstance(outputs.get("outputs"), dict):
            # As in a real export: the referenced stack's secret outputs stay secret here too.
            hidden = set(outputs.get("secretOutputNames") or [])
            outputs["outputs"] = {k: SECRET if k in hidden else v for k, v in outputs["outputs"].items()}
        record: dict[str, Any] = {
            "urn": urn,
            "custom": bool(custom),
            "type": request.type,
            "inputs": inputs,
            "outputs": mask(_plain(outputs)),
            "parent": request.parent or None,
        }
        if custom:
            record["id"] = resource_id
        provider = getattr(request, "provider", "")
        if provider:
            record["provider"] = provider
        # Dependencies are sets; the SDK gathers them concurrently, in no fixed order.
        dependencies = sorted(getattr(request, "dependencies", []))
        if dependencies:
            record["dependencies"] = dependencies
        property_dependencies = {
            key: sorted(deps.urns) for key, deps in getattr(request, "propertyDependencies", {}).items() if deps.urns
        }
        if property_dependencies:
            record["propertyDependencies"] = property_dependencies
        self.records.append({k: v for k, v in record.items() if v is not None})


def _plain(value: Any) -> Any:
    """Mock state may hold SDK objects (assets, resource refs); keep the JSON-able shape of it."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return _asset(value)
    if isinstance(value, Unknown):
        return UNKNOWN
    raise TypeError(f"no export form for {type(value).__name__} in mock state")


def _text_asset(text: str) -> dict[str, Any]:
    """A text asset as the engine records it: its signature, the text and the text's SHA-256."""
    return {SIG: ASSET_SIG, "hash": hashlib.sha256(text.encode()).hexdigest(), "text": text}


def _asset(value: pulumi.Asset | pulumi.Archive) -> dict[str, Any]:
    """An asset or archive in the engine's state form (`pulumi stack export`)."""
    if isinstance(value, pulumi.StringAsset):
        return _text_asset(value.text)
    sig = ASSET_SIG if isinstance(value, pulumi.Asset) else ARCHIVE_SIG
    if isinstance(value, pulumi.AssetArchive):
        return {SIG: sig, "assets": {name: _asset(item) for name, item in sorted(value.assets.items())}}
    if isinstance(value, (pulumi.FileAsset, pulumi.FileArchive)):
        return {SIG: sig, "path": str(value.path)}
    return {SIG: sig, "uri": value.uri}


def _resolve(output: Any) -> tuple[Any, bool]:
    out = pulumi.Output.from_input(output)
    return _sync_await(out.future(with_unknowns=True)), bool(_sync_await(out.is_secret()))


class ProgramError(BadInput):
    """The stack's program refused its input; `resources` is what it had declared until then
    (export-shaped, secrets masked), so the review can still judge and show it."""

    def __init__(self, message: str, resources: list[dict[str, Any]], seconds: float):
        super().__init__(message)
        self.resources = resources
        self.seconds = seconds


def root_urn(stack: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{ROOT_TYPE}::{PROJECT}-{stack}"


def _with_root(stack: str, outputs: dict[str, Any], records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Export order: the Stack first (with its masked outputs), then the registrations."""
    root = {"urn": root_urn(stack), "custom": False, "type": ROOT_TYPE, "outputs": outputs}
    return [root] + export_order([r for r in records if r["type"] != ROOT_TYPE])


def export_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each resource after its parent, provider and dependencies (as the engine lists them), and
    among those ready, by URN: an order that depends on what was declared, not on when."""
    by_urn = {r["urn"]: r for r in records}
    waiting = {urn: _needs(record) & by_urn.keys() - {urn} for urn, record in by_urn.items()}
    dependents: dict[str, list[str]] = defaultdict(list)
    for urn, needs in waiting.items():
        for need in needs:
            dependents[need].append(urn)
    ready = sorted(urn for urn, needs in waiting.items() if not needs)
    ordered: list[dict[str, Any]] = []
    while ready:
        urn = heapq.heappop(ready)
        ordered.append(by_urn[urn])
        for dependent in dependents[urn]:
            waiting[dependent].discard(urn)
            if not waiting[dependent]:
                heapq.heappush(ready, dependent)
    # The SDK cannot declare a cycle; were there one, its resources still appear, by URN.
    listed = {r["urn"] for r in ordered}
    return ordered + [by_urn[urn] for urn in sorted(by_urn.keys() - listed)]


def _needs(record: dict[str, Any]) -> set[str]:
    needs = {record.get("parent", "")} | set(record.get("dependencies", []))
    needs.update(urn for urns in record.get("propertyDependencies", {}).values() for urn in urns)
    if "provider" in record:
        needs.add(record["provider"].rsplit("::", 1)[0])  # a provider reference is `<urn>::<id>`
    return needs


def run_program(
    program: Callable[[], Any],
    *,
    stack: str,
    config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    references: Mapping[str, tuple[dict[str, Any], frozenset[str]]] | None = None,
    declared: list[dict[str, Any]] | None = None,
) -> Recording:
    """Run `program` as stack `stack` of this project under mocks, in a fresh context; record it.

    Tests use this to exercise one component without the whole stack program. `declared`, if
    given, receives each record as it is registered: what a failing program declared is kept.
    """
    records = [] if declared is None else declared
    with _gc_paused():
        return contextvars.Context().run(
            _record_run, program, stack, dict(config or {}), sorted(secret_keys), references or {}, records
        )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during a run. The SDK keeps every Output's futures and tasks
    alive until the run ends, so collections free little, and each full one walks every object in
    the process (the provider SDKs alone are ~2x10^5): they were ~40% of a 500-edge hub's preview
    (bench/program_overhead.py). The run's cycles wait for the next collection (+17 MiB at 500 edges)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# What the program logs to the engine (`pulumi.log`): the CLI would show it; the review reports
# through its own channels (an edge's waiting state is in its outputs), so it stays quiet.
PROGRAM_LOG = logging.getLogger("review.program")
PROGRAM_LOG.propagate = False
PROGRAM_LOG.addHandler(logging.NullHandler())


def _quiet_program_errors() -> None:
    """A program error is reported once, by the run; the other outputs that carried it are
    garbage-collected later and asyncio would log each ("exception was never retrieved")."""
    loop = _ensure_event_loop()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not isinstance(context.get("exception"), (pulumi.RunError, ValueError)):
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


def _record_run(program, stack, config, secret_keys, references, records) -> Recording:
    monitor = RecordingMonitor(FleetMocks(references), records)
    pulumi.runtime.set_all_config(config, secret_keys)
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor, logger=PROGRAM_LOG
    )
    # The SDK's set of pending outputs outlives a run in one process: a failed run's leftovers would
    # fail the next run with the same error. Each run gets its own set.
    SETTINGS.outputs = set()
    _quiet_program_errors()
    # The program runs in a Stack of its own, as the language host runs it, so that an async
    # entrypoint (`pulumi.run`) is awaited: set_mocks' root is already closed to one. That Stack is
    # the root only in the run's own context; the run hands it out.
    roots: list[Any] = []

    def run() -> Any:
        roots.append(get_root_resource())
        return program()

    set_root_resource(None)
    _sync_await(run_in_stack(run))
    outputs: dict[str, Any] = {}
    secret: set[str] = set()
    for name, value in getattr(roots[0] if roots else None, "outputs", {}).items():
        outputs[name], is_secret = _resolve(value)
        if is_secret:
            secret.add(name)
    masked = {k: SECRET if k in secret else _plain(v) for k, v in outputs.items()}
    resources = _with_root(stack, masked, records)
    state = {urn: _plain(_reveal(r.state)) for urn, r in monitor.resources.items()}
    return Recording(resources, outputs, frozenset(secret), state)


def _reveal(value: Any) -> Any:
    """Unwrap secret-wrapped values (the mock monitor keeps inputs as the SDK sent them)."""
    if rpc.is_rpc_secret(value):
        return _reveal(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reveal(v) for v in value]
    return value


def preview(
    stack: StackConfig,
    references: Mapping[str, tuple[dict[str, Any], frozenset[str]]] | None = None,
    root: Path | None = None,
) -> PreviewResult:
    """Preview one stack; `references` maps stack name -> (outputs, secret output names)."""
    program = str((root or project_root()) / "__main__.py")
    started = time.perf_counter()
    declared: list[dict[str, Any]] = []
    try:
        recording = run_program(
            lambda: runpy.run_path(program, run_name="__main__"),
            stack=stack.name,
            config=stack.engine_config,
            secret_keys=stack.secret_keys,
            references=references,
            declared=declared,
        )
    except (pulumi.RunError, ValueError) as err:
        # Errors the program raises on purpose (residency, hub mismatch) are bad input, not crashes.
        message = "; ".join(str(err).splitlines())
        raise ProgramError(
            f"Pulumi.{stack.name}.yaml: {message}", _with_root(stack.name, {}, declared), time.perf_counter() - started
        ) from None
    return PreviewResult(
        recording.resources,
        recording.outputs,
        recording.secret_outputs,
        recording.state,
        stack=stack.name,
        seconds=time.perf_counter() - started,
        config=stack,
    )
