"""Malformed and hostile inputs to `review audit` and `review preview`: exit 2 with one line naming
the file (and key), never a traceback, within a CPU-time and address-space limit the test sets
(the CLI runs in a subprocess under RLIMIT_CPU / RLIMIT_AS; breaking a limit kills it)."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from review.stacks import project_root
from tests.policies.builders import aws_provider, stack

CPU_SECONDS = 30  # the slowest refusal measured takes ~2 s of CPU (mostly interpreter start-up)
ADDRESS_SPACE = 2 * 1024**3  # the CLI plus gRPC threads stays well under it; the bombs would not
NINES = "9" * 5000


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "review", *args], cwd=project_root(), env=env, capture_output=True,
                          text=True, preexec_fn=_limits, timeout=10 * CPU_SECONDS)


def refused(done: subprocess.CompletedProcess, *expected: str) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and "Traceback" not in done.stderr
    for part in expected:
        assert part in line, line


def _export(body: str) -> str:
    return '{"version": 3, "deployment": {"manifest": {}, "resources": [], "extra": ' + body + "}}"


EXPORTS: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "deep nesting": (lambda p: p.write_text(_export("[" * 200_000 + "]" * 200_000)), ("nested deeper than",)),
    "deep objects": (lambda p: p.write_text(_export('{"a":' * 150 + "1" + "}" * 150)), ("nested deeper than",)),
    "5000-digit int": (lambda p: p.write_text(_export('{"size": ' + NINES + "}")), ("size:", "5000 characters")),
    "huge float": (lambda p: p.write_text(_export('{"size": 1e999}')), ("size:", "out of range")),
    "NaN": (lambda p: p.write_text(_export('{"ratio": NaN}')), ("ratio:", "NaN")),
    "Infinity": (lambda p: p.write_text(_export("[-Infinity]")), ("-Infinity",)),
    "lone surrogate": (lambda p: p.write_text(_export('{"name": "a\\udc80b"}')), ("extra.name", "surrogate")),
    "lone surrogate key": (lambda p: p.write_text(_export('{"\\ud800": 1}')), ("surrogate",)),
    "not UTF-8": (lambda p: p.write_bytes(_export('"caf\xe9"').encode("latin-1")), ("not UTF-8",)),
    "FIFO": (lambda p: os.mkfifo(p), ("not a regular file",)),
    "directory": (lambda p: p.mkdir(), ("not a regular file",)),
    "not JSON": (lambda p: p.write_text("{"), ("not JSON",)),
}


@pytest.mark.parametrize("case", EXPORTS)
def test_audit_refuses_hostile_exports(tmp_path: Path, case: str) -> None:
    make, expected = EXPORTS[case]
    path = tmp_path / "stack.json"
    make(path)
    refused(cli("audit", str(path)), str(path), *expected)


def test_audit_refuses_a_device_without_reading_it() -> None:
    refused(cli("audit", "/dev/zero"), "/dev/zero: not a regular file")


def test_audit_refuses_a_hostile_policy_config(tmp_path: Path) -> None:
    export = tmp_path / "stack.json"
    export.write_text(json.dumps({"version": 3, "deployment": {"resources": [stack()]}}))
    config = tmp_path / "policy.yaml"
    config.write_text(_alias_bomb("all"))
    refused(cli("audit", str(export), "--policy-config", str(config)), str(config), "YAML")


def test_real_export_nulls_in_dependencies_audit_normally(tmp_path: Path) -> None:
    """`pulumi stack export` writes null for a property without dependencies."""
    provider = aws_provider()
    provider["propertyDependencies"] = {"region": None, "defaultTags": []}
    provider["dependencies"] = None
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": [stack(), provider]}}))
    done = cli("audit", str(path))
    assert (done.returncode, json.loads(done.stdout)) == (0, {"violations": []}), done.stderr


# --- stack files ---------------------------------------------------------------------------------


def _alias_bomb(key: str) -> str:
    """Nine levels of nine aliases each: 9**9 leaves once expanded, a few hundred bytes of YAML."""
    lines = ["x0: &x0 [a, a, a, a, a, a, a, a, a]"]
    lines += [f"x{n}: &x{n} [" + ", ".join([f"*x{n - 1}"] * 9) + "]" for n in range(1, 9)]
    return f"{key}:\n" + "".join(f"  {line}\n" for line in lines)


def _edit(pattern: str, replacement: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        edited, count = re.subn(pattern, replacement, text, count=1)
        assert count == 1, pattern
        return edited
    return edit


STACK_FILES: dict[str, tuple[Callable[[str], str], tuple[str, ...]]] = {
    "alias bomb": (lambda text: _alias_bomb("bomb") + text, ("YAML",)),
    "400-digit seriesEstimate": (_edit(r"obsfleet:seriesEstimate: *\d+", "obsfleet:seriesEstimate: " + "9" * 400),
                                 ("obsfleet:seriesEstimate", "400 characters")),
    "deep nesting": (lambda text: text + "deep: " + "[" * 5000 + "]" * 5000 + "\n", ("nested deeper than",)),
    "NaN": (_edit(r"\n  obsfleet:hubStack", "\n  obsfleet:hubRttMs: .nan\n  obsfleet:hubStack"), ("obsfleet:hubRttMs", "not finite")),
    "lone surrogate": (_edit(r"\n  obsfleet:hubStack", '\n  obsfleet:cluster: "eu\\\\ud800"\n  obsfleet:hubStack'),
                       ("obsfleet:cluster", "surrogate")),
}


@pytest.mark.parametrize("case", STACK_FILES)
def test_preview_refuses_hostile_stack_files(stacks_dir: Path, case: str) -> None:
    edit, expected = STACK_FILES[case]
    path = stacks_dir / "Pulumi.edge-eu.yaml"
    path.write_text(edit(path.read_text()))
    refused(cli("preview", "--stack", "edge-eu", "--stacks-dir", str(stacks_dir), "--out", str(stacks_dir / "out")),
            "Pulumi.edge-eu.yaml", *expected)
    assert not (stacks_dir / "out").exists()


def test_preview_refuses_a_non_utf8_stack_file(stacks_dir: Path) -> None:
    path = stacks_dir / "Pulumi.edge-eu.yaml"
    path.write_bytes(path.read_bytes() + b"# caf\xe9\n")
    refused(cli("preview", "--stack", "edge-eu", "--stacks-dir", str(stacks_dir)), "Pulumi.edge-eu.yaml", "not UTF-8")


def test_preview_never_opens_a_fifo_stack_file(stacks_dir: Path) -> None:
    path = stacks_dir / "Pulumi.edge-eu.yaml"
    path.unlink()
    os.mkfifo(path)  # opening it for reading would block until a writer comes
    refused(cli("preview", "--all", "--stacks-dir", str(stacks_dir), "--out", str(stacks_dir / "out")),
            "Pulumi.edge-eu.yaml: not a regular file")


def test_a_small_alias_count_is_still_valid_yaml(stacks_dir: Path) -> None:
    """Anchors are ordinary YAML: only their number and expansion are bounded."""
    path = stacks_dir / "Pulumi.hub.yaml"
    anchored = _edit(r"metrics: *(\d+)", r"metrics: &days \1")(path.read_text())
    path.write_text(_edit(r"logs: *\d+", "logs: *days")(anchored))
    shutil.rmtree(stacks_dir / "out", ignore_errors=True)
    done = cli("preview", "--stack", "hub", "--stacks-dir", str(stacks_dir), "--out", str(stacks_dir / "out"), "--quiet")
    assert done.returncode != 2, done.stderr


@pytest.mark.parametrize("document", ["[" * 100_000 + "]" * 100_000, '{"Statement": [{"Sid": ' + NINES + "}]}",
                                      '{"Statement": NaN}', '{"Statement": "\\ud800"}'])
def test_hostile_json_inside_a_string_value_is_judged_not_a_crash(tmp_path: Path, document: str) -> None:
    """Bucket policies and provider tags are JSON inside strings: the pack parses them itself."""
    provider = aws_provider()
    provider["outputs"]["defaultTags"] = document
    bucket = {"urn": "urn:pulumi:hub::obsfleet::aws:s3/bucket:Bucket::b", "custom": True, "type": "aws:s3/bucket:Bucket",
              "inputs": {"policy": document}, "outputs": {"bucket": "b-0abc", "policy": document},
              "provider": f"{provider['urn']}::{provider['id']}"}
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": [stack(), provider, bucket]}}))
    done = cli("audit", str(path))
    assert done.returncode == 1 and done.stderr == "", done.stderr[-2000:]
    assert "storage-tls-only" in {v["policy"] for v in json.loads(done.stdout)["violations"]}


def test_a_failing_pack_is_exit_2_on_one_line_never_a_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from review import audit
    from review.cli import main
    from review.errors import PackError

    def broken(*_args: object, **_kwargs: object) -> None:
        raise PackError("policy pack AnalyzeStack failed: Exception calling application: boom\nsecond line")

    monkeypatch.setattr(audit, "PackProcess", broken)
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": [stack()]}}))
    assert main(["audit", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "error: policy pack AnalyzeStack failed: Exception calling application: boom second line\n"
