"""Runs a CrossGuard policy pack the way the Pulumi engine does, over `pulumi stack export` resources.

What the engine does, and so what this does (pulumi/pulumi pkg/resource/plugin/analyzer_plugin.go,
pkg/resource/analyzer/config.go, pkg/resource/deploy/analyze.go):
- start `python -u -m pulumi.policy <engine-address> .` in the pack directory (what the
  `pulumi-analyzer-policy-python` shim runs), with the python of the pack's `virtualenv` option
  and env PULUMI_CONFIG / PULUMI_PROJECT / PULUMI_STACK / PULUMI_DRY_RUN; the pack prints its port.
  The Python SDK never dials the engine address (its log calls fall back to stderr), so a
  placeholder stands in for the engine;
- ConfigureStack; GetAnalyzerInfo; Configure with every policy's config reconciled as the engine
  does: schema defaults, then the pack's initial config, then the user's, validated against the
  schemas. The SDK merges nothing itself, and a policy left out of Configure runs as advisory;
- Analyze each resource with its inputs and its provider's inputs; AnalyzeStack once with every
  resource's outputs, parent and (property) dependencies. Diagnostics without a URN from
  Analyze belong to the analysed resource.
Export values are marshalled as the engine marshals state: secrets stay secret-wrapped, but an
export's ciphertext (or the "[secret]" of an offline preview) is unreadable here, so its value is
unknown, like a value preview cannot know.
"""

from __future__ import annotations

import collections
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from review import safe_load
from review.errors import BadInput, PackError

PACK_DIR = Path(__file__).resolve().parent.parent / "policies"
ENGINE_ADDRESS = "127.0.0.1:0"  # placeholder: see the module docstring
MASKED_SECRET = "[secret]"  # how review.engine's offline previews write secret values
UNKNOWN = rpc.UNKNOWN  # the engine marshals every unknown value as this string

# Signatures of the engine's special values (sdk/go/common/resource/properties.go).
_SIG = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_RESOURCE_SIG = rpc._special_resource_sig
_OUTPUT_SIG = rpc._special_output_value_sig
_ASSET_SIGS = frozenset({rpc._special_asset_sig, rpc._special_archive_sig})

_LEVELS = {"advisory", "mandatory", "remediate", "disabled"}
_MESSAGE_LIMIT = 400 * 1024 * 1024  # the SDK's own server limit
_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", _MESSAGE_LIMIT), ("grpc.max_send_message_length", _MESSAGE_LIMIT)]
_IN_FLIGHT = 32  # Analyze calls outstanding at once (the engine analyses resources concurrently too)
_RPC_TIMEOUT = 600.0
# A secret's plaintext sits inside a resource's properties, which the export limits already bound.
_PLAINTEXT_LIMITS = safe_load.Limits(max_bytes=safe_load.EXPORT.max_bytes, max_depth=32)


@dataclass(frozen=True)
class Violation:
    policy: str
    urn: str  # "" for a stack-wide finding
    enforcement: str  # advisory | mandatory
    message: str


def run_pack(
    resources: list[dict],
    *,
    project: str,
    stack: str,
    policy_config: Optional[Mapping[str, Any]] = None,
    dry_run: bool = True,
    pack_dir: Path = PACK_DIR,
) -> list[Violation]:
    """Start the pack, judge `resources` (a stack export's `deployment.resources`), stop the pack."""
    with PackProcess(project=project, stack=stack, dry_run=dry_run, pack_dir=pack_dir) as pack:
        return pack.run(resources, policy_config)


class PackProcess:
    """One running policy pack; `run` it over as many resource lists as needed, then `close` it."""

    def __init__(self, *, project: str, stack: str, dry_run: bool = True, pack_dir: Path = PACK_DIR,
                 startup_timeout: float = 60.0) -> None:
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ, PULUMI_CONFIG="{}", PULUMI_PROJECT=project, PULUMI_STACK=stack,
                   PULUMI_DRY_RUN="true" if dry_run else "false")
        self._process = subprocess.Popen(
            [_python(pack_dir), "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."],
            cwd=pack_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
        )
        self._channel: Optional[grpc.Channel] = None
        self._drainer: Optional[threading.Thread] = None
        try:
            port = self._read_port(startup_timeout)
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
            grpc.channel_ready_future(self._channel).result(timeout=startup_timeout)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
            self._project, self._dry_run = project, dry_run
            self._configure_stack(stack)
            self.info: analyzer_pb2.AnalyzerInfo = self._call("GetAnalyzerInfo", empty_pb2.Empty())
            self.policies_run: dict[str, str] = {}
            """Policy name -> enforcement level of the last `run` (disabled policies left out)."""
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "PackProcess":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._drainer is not None:
            self._drainer.join()  # it reads the pipe's fd: only close that once the reader is done
        if self._process.stdout:
            self._process.stdout.close()
        self._stderr.close()

    def _configure_stack(self, stack: str) -> None:
        self._call("ConfigureStack", analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=self._project, organization="organization", dry_run=self._dry_run))
        self._stack = stack

    def run(self, resources: Sequence[Mapping[str, Any]], policy_config: Optional[Mapping[str, Any]] = None,
            stack: Optional[str] = None, *, whole_stack: bool = True,
            stack_findings: Optional[Callable[[Violation], bool]] = None) -> list[Violation]:
        """Configure, then Analyze every resource and AnalyzeStack them all, as `pulumi preview` does.
        `stack`: judge as that stack (the pack is told again when it changes; its environment keeps
        the first stack's name, which no policy reads). `whole_stack=False` stops after Analyze:
        what an update reports before it creates each resource. `stack_findings`, when given, keeps
        only the AnalyzeStack findings it accepts."""
        if stack is not None and stack != self._stack:
            self._configure_stack(stack)
        config = reconcile_config(self.info, policy_config)
        self.policies_run = {name: level for name, (level, _) in config.items() if level != "disabled"}
        self._call("Configure", analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
            name: analyzer_pb2.PolicyConfig(enforcementLevel=_LEVEL_ENUM[level], properties=_struct(properties))
            for name, (level, properties) in config.items()
        }))
        live = [r for r in resources if not r.get("delete")]  # pending deletions are not analysed
        providers = {r["urn"]: _provider(r) for r in live if r["type"].startswith("pulumi:providers:")}
        violations: list[Violation] = []
        # The engine analyses in registration order, one resource at a time: the stack, components
        # and providers before what uses them. Those go first here, one by one, then the rest at once.
        first = [r for r in live if _registered_first(r)]
        rest = [r for r in live if not _registered_first(r)]
        responses = [*self._analyze_all((_analyze_request(r, providers) for r in first), in_flight=1),
                     *self._analyze_all(_analyze_request(r, providers) for r in rest)]
        for request, response in zip(first + rest, responses):
            violations += _violations(response, default_urn=request["urn"])
        if not whole_stack:
            return violations
        stack = analyzer_pb2.AnalyzeStackRequest(resources=[_stack_resource(r, providers) for r in live])
        found = _violations(self._call("AnalyzeStack", stack), default_urn="")
        return violations + [v for v in found if stack_findings is None or stack_findings(v)]

    def _analyze_all(self, requests: Iterable[analyzer_pb2.AnalyzeRequest],
                     in_flight: int = _IN_FLIGHT) -> Iterable[analyzer_pb2.AnalyzeResponse]:
        pending: collections.deque = collections.deque()
        for request in requests:
            pending.append(self._stub.Analyze.future(request, timeout=_RPC_TIMEOUT))
            if len(pending) >= in_flight:
                yield self._result("Analyze", pending.popleft())
        while pending:
            yield self._result("Analyze", pending.popleft())

    def _call(self, method: str, request: Any) -> Any:
        return self._result(method, getattr(self._stub, method).future(request, timeout=_RPC_TIMEOUT))

    def _result(self, method: str, future: Any) -> Any:
        try:
            return future.result()
        except grpc.RpcError as err:
            raise PackError(f"policy pack {method} failed: {err.details()}{self._stderr_tail()}") from None

    def _read_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        stdout = self._process.stdout
        assert stdout is not None
        printed = b""
        while b"\n" not in printed:
            remaining = deadline - time.monotonic()
            ready = select.select([stdout], [], [], remaining)[0] if remaining > 0 else []
            chunk = os.read(stdout.fileno(), 64) if ready else b""
            if not chunk:
                raise PackError(f"policy pack did not print its port within {timeout:.0f}s{self._stderr_tail()}")
            printed += chunk
        # Whatever the pack prints later must not fill the pipe and block it.
        self._drainer = threading.Thread(target=_drain, args=(stdout.fileno(),), daemon=True)
        self._drainer.start()
        line = printed.split(b"\n", 1)[0]
        try:
            return int(line)
        except ValueError:
            raise PackError(f"policy pack printed {line!r} instead of its port{self._stderr_tail()}") from None

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return f"; stderr: {' | '.join(lines[-5:])}" if lines else ""


def _drain(fd: int) -> None:
    while os.read(fd, 65536):  # b"" once the pack has exited
        pass


def _python(pack_dir: Path) -> str:
    """The interpreter the engine would use: the pack's `virtualenv` option, else this one."""
    try:
        project = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise PackError(f"{pack_dir}/PulumiPolicy.yaml: {err}") from None
    runtime = project.get("runtime")
    virtualenv = runtime.get("options", {}).get("virtualenv") if isinstance(runtime, dict) else None
    candidate = pack_dir / virtualenv / "bin" / "python" if virtualenv else None
    return str(candidate) if candidate and candidate.exists() else sys.executable


# --- config ----------------------------------------------------------------------------------

_LEVEL_ENUM = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_LEVEL_NAME = {value: name for name, value in _LEVEL_ENUM.items()}

PolicyConfig = dict[str, tuple[str, dict[str, Any]]]  # policy -> (enforcement level, properties)


def reconcile_config(info: analyzer_pb2.AnalyzerInfo, user: Optional[Mapping[str, Any]]) -> PolicyConfig:
    """Each policy's level and properties as the engine would Configure them.

    `user` maps a policy name to a level string or to {"enforcementLevel"?, <properties>...}, like
    `pulumi policy enable --config`. `all` sets every policy's level (as in the engine) and, an
    obsfleet extension, its properties on every policy whose schema declares them. Unknown policy
    names and values the schemas reject are BadInput (the engine also rejects the latter).
    """
    schemas = {p.name: json_format.MessageToDict(p.configSchema.properties) for p in info.policies}
    result: PolicyConfig = {
        p.name: (_LEVEL_NAME[p.enforcementLevel], {k: s["default"] for k, s in schemas[p.name].items() if "default" in s})
        for p in info.policies
    }
    initial = {
        name: {"enforcementLevel": _LEVEL_NAME[c.enforcementLevel], **json_format.MessageToDict(c.properties)}
        for name, c in info.initialConfig.items()
    }
    for layer in (initial, user or {}):
        _apply(result, schemas, _parse_layer(layer, schemas))
    for policy, (_, properties) in result.items():
        for key, value in properties.items():
            _validate(f"{policy}.{key}", value, schemas[policy].get(key))
    return result


def _parse_layer(layer: Mapping[str, Any], schemas: Mapping[str, Any]) -> dict[str, tuple[Optional[str], dict]]:
    if not isinstance(layer, Mapping):
        raise BadInput("policy config must map policy names to a level or an object")
    parsed: dict[str, tuple[Optional[str], dict]] = {}
    for name, value in layer.items():
        if name != "all" and name not in schemas:
            raise BadInput(f"policy config: no policy {name!r} in the pack (policies: {', '.join(sorted(schemas))})")
        if isinstance(value, str):
            value = {"enforcementLevel": value}
        if not isinstance(value, Mapping):
            raise BadInput(f"policy config: {name}: {value!r} is neither an enforcement level nor an object")
        properties = dict(value)
        level = properties.pop("enforcementLevel", None)
        if level is not None and level not in _LEVELS:
            raise BadInput(f"policy config: {name}: enforcementLevel {level!r} is not one of {', '.join(sorted(_LEVELS))}")
        parsed[name] = (level, properties)
    return parsed


def _apply(result: PolicyConfig, schemas: Mapping[str, Any], layer: Mapping[str, tuple[Optional[str], dict]]) -> None:
    everyone_level, everyone_properties = layer.get("all", (None, {}))
    for policy, (level, properties) in result.items():
        shared = {k: v for k, v in everyone_properties.items() if k in schemas[policy]}
        result[policy] = (everyone_level or level, {**properties, **shared})
    for policy, (given_level, given) in layer.items():
        if policy != "all":
            current_level, current = result[policy]
            result[policy] = (given_level or current_level, {**current, **given})
    unused = set(everyone_properties) - {k for schema in schemas.values() for k in schema}
    if unused:
        raise BadInput(f"policy config: all: no policy takes {', '.join(sorted(unused))}")


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "boolean": (bool,), "array": (list,), "object": (dict,), "null": (type(None),),
    "number": (int, float), "integer": (int, float),
}


def _validate(path: str, value: Any, schema: Optional[Mapping[str, Any]]) -> None:
    """The subset of JSON Schema policy config schemas use here: type, enum, items."""
    if schema is None:
        raise BadInput(f"policy config: {path}: no such setting")
    expected = schema.get("type")
    if expected is not None:
        if expected not in _JSON_TYPES:
            raise PackError(f"policy config schema of {path}: type {expected!r} is not supported here")
        valid = isinstance(value, _JSON_TYPES[expected]) and not (isinstance(value, bool) and expected in ("number", "integer"))
        if expected == "integer" and valid:
            valid = float(value).is_integer()
        if not valid:
            raise BadInput(f"policy config: {path}: {value!r} is not of type {expected}")
    if "enum" in schema and value not in schema["enum"]:
        raise BadInput(f"policy config: {path}: {value!r} is not one of {_choices(schema['enum'])}")
    if "items" in schema and isinstance(value, list):
        for index, item in enumerate(value):
            _validate(f"{path}[{index}]", item, schema["items"])


def _choices(values: list) -> str:
    shown = ", ".join(map(str, values[:12]))
    return shown if len(values) <= 12 else f"{shown}, ... ({len(values)} values)"


# --- marshalling -----------------------------------------------------------------------------


def wire(value: Any) -> Any:
    """An export value as the engine marshals it to an analyzer."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig is None:
            return {key: wire(item) for key, item in value.items()}
        if sig == _SECRET_SIG:
            return _secret(_plaintext(value.get("plaintext")))
        if sig == _RESOURCE_SIG:  # resource references go out as their ID (custom) or URN (component)
            return value.get("id") or value.get("urn") or UNKNOWN
        if sig == _OUTPUT_SIG:
            inner = wire(value["value"]) if "value" in value else UNKNOWN
            return _secret(inner) if value.get("secret") else inner
        if isinstance(sig, str) and sig in _ASSET_SIGS and any(key in value for key in ("path", "text", "uri", "assets")):
            return value
        return UNKNOWN  # a signature this SDK cannot decode
    if isinstance(value, list):
        return [wire(item) for item in value]
    if value == MASKED_SECRET:
        return _secret(UNKNOWN)
    return value


def _secret(value: Any) -> dict:
    return {_SIG: _SECRET_SIG, "value": value}


def _plaintext(plaintext: Any) -> Any:
    """`--show-secrets` exports carry the JSON-encoded plaintext; others only ciphertext."""
    if not isinstance(plaintext, str):
        return UNKNOWN
    try:
        return wire(safe_load.parse_json(plaintext, "secret plaintext", _PLAINTEXT_LIMITS))
    except BadInput:  # unreadable like any other secret
        return UNKNOWN


def _struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(properties)
    return struct


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _provider(resource: Mapping[str, Any]) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        urn=resource["urn"], type=resource["type"], name=_name(resource["urn"]),
        properties=_struct(wire(resource.get("inputs") or {})),
    )


def _provider_of(resource: Mapping[str, Any], providers: Mapping[str, Any]) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
    reference = resource.get("provider")  # "<provider URN>::<provider ID>"
    return providers.get(reference.rsplit("::", 1)[0]) if isinstance(reference, str) else None


def _options(resource: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(resource.get("protect")),
        parent=resource.get("parent") or "",
        additionalSecretOutputs=_strings(resource.get("additionalSecretOutputs")),
        aliases=_strings(resource.get("aliases")),
    )


def _strings(values: Any) -> list[str]:
    return [value for value in values if isinstance(value, str)] if isinstance(values, list) else []


def _registered_first(resource: Mapping[str, Any]) -> bool:
    """The stack, components and providers: what a program registers before the resources using them."""
    return resource.get("custom") is not True or resource["type"].startswith("pulumi:providers:")


def _analyze_request(resource: Mapping[str, Any], providers: Mapping[str, Any]) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(
        type=resource["type"], urn=resource["urn"], name=_name(resource["urn"]),
        properties=_struct(wire(resource.get("inputs") or {})),
        options=_options(resource), provider=_provider_of(resource, providers),
    )


def _stack_resource(resource: Mapping[str, Any], providers: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        type=resource["type"], urn=resource["urn"], name=_name(resource["urn"]),
        properties=_struct(wire(resource.get("outputs") or {})),
        options=_options(resource), provider=_provider_of(resource, providers),
        parent=resource.get("parent") or "",
        dependencies=resource.get("dependencies") or [],
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
            for key, urns in (resource.get("propertyDependencies") or {}).items() if urns
        },
    )


def _violations(response: analyzer_pb2.AnalyzeResponse, *, default_urn: str) -> list[Violation]:
    # The engine reports a remediate-level violation (a remediation that did not fix it) as mandatory.
    return [
        Violation(
            policy=d.policyName,
            urn=d.urn or default_urn,
            enforcement="mandatory" if d.enforcementLevel == analyzer_pb2.REMEDIATE else _LEVEL_NAME[d.enforcementLevel],
            message=d.message,
        )
        for d in response.diagnostics
    ]
