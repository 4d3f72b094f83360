"""Audit benchmark (not a test): the policy pack over a synthetic 10,000-resource stack export.

Runs the obsfleet pack and a no-op pack (the same policies, same kinds and levels, with empty
validations) through the same gRPC Analyzer path `python -m review audit` uses, in one run, and
prints resources/s for each and their ratio; a one-policy no-op pack shows the ceiling of the
SDK's Analyzer server itself. Targets: >= 2,000 resources/s, <= 2x the no-op pack.

    venv/bin/python bench/audit_bench.py [--resources 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from review.analyzer import PACK_DIR, PackProcess  # noqa: E402

STACK = "bench"
PREFIX = f"urn:pulumi:{STACK}::obsfleet::"


def noop_main(floor: bool) -> str:
    """A no-op pack: the obsfleet policies with empty validations, or (floor) one empty resource
    policy, which measures the SDK's Analyzer server alone."""
    return f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from pulumi_policy import PolicyPack, ResourceValidationPolicy, StackValidationPolicy
from policies.obsfleet_residency import _gc
from policies.obsfleet_residency._policy import declared_and_stack_policy
from policies.obsfleet_residency.pack import POLICIES

_gc.collect_rarely()  # as the real pack does: the ratio compares policy logic, not GC settings

def noop(args, report):
    return None

def mirrored():
    for real in POLICIES:
        if isinstance(real, ResourceValidationPolicy) and isinstance(real, StackValidationPolicy):
            # Both kinds under one name: Analyze still records inputs, neither call judges anything.
            yield declared_and_stack_policy(real.name, real.description, real.enforcement_level,
                                            lambda resources, config: [], lambda subject, config: [], "",
                                            real.config_schema)
        else:
            yield type(real)(name=real.name, description=real.description, validate=noop,
                             enforcement_level=real.enforcement_level, config_schema=real.config_schema)

floor = [ResourceValidationPolicy(name="noop", description="nothing", validate=noop)]
PolicyPack("noop", policies=floor if {floor} else list(mirrored()))
"""


def _resource(kind: str, name: str, inputs: dict, outputs: dict | None = None, provider: str = "", **extra: Any) -> dict:
    urn = f"{PREFIX}{kind}::{name}"
    resource = {"urn": urn, "custom": True, "type": kind, "id": f"{name}-id", "inputs": inputs,
                "outputs": {**inputs, **(outputs or {})}, **extra}
    if provider:
        resource["provider"] = provider
    return resource


def _bucket_group(index: int, aws: str, k8s: str) -> list[dict]:
    """Ten resources: a hardened bucket with its five config resources, a key, a role, a workload."""
    name = f"traces-{index}"
    bucket = _resource("aws:s3/bucket:Bucket", name, {"tags": {"team": "obs"}},
                       {"bucket": f"{name}-abc", "arn": f"arn:aws:s3:::{name}-abc", "region": "eu-central-1"}, aws)
    key = _resource("aws:kms/key:Key", f"{name}-key", {"enableKeyRotation": True, "description": "traces"},
                    {"arn": f"arn:aws:kms:eu-central-1:123456789012:key/{index}"}, aws)
    on = {"bucket": f"{name}-abc"}
    deps = {"propertyDependencies": {"bucket": [bucket["urn"]]}, "dependencies": [bucket["urn"]]}
    document = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}-abc", f"arn:aws:s3:::{name}-abc/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    return [
        bucket, key,
        _resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", f"{name}-sse",
                  {**on, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key["outputs"]["arn"]},
                                    "bucketKeyEnabled": True}]}, None, aws, **deps),
        _resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-pab",
                  {**on, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True},
                  None, aws, **deps),
        _resource("aws:s3/bucketPolicy:BucketPolicy", f"{name}-policy", {**on, "policy": document}, None, aws, **deps),
        _resource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{name}-lifecycle",
                  {**on, "rules": [{"id": "expire", "status": "Enabled", "expiration": {"days": 14},
                                    "noncurrentVersionExpiration": {"noncurrentDays": 7}}]}, None, aws, **deps),
        _resource("aws:s3/bucketLogging:BucketLogging", f"{name}-logging", {**on, "targetBucket": "logs-abc", "targetPrefix": f"{name}/"},
                  None, aws, **deps),
        _resource("aws:iam/role:Role", f"{name}-role", {"assumeRolePolicy": document, "tags": {"team": "obs"}}, None, aws),
        _resource("kubernetes:core/v1:ConfigMap", f"{name}-config", {"metadata": {"name": name, "namespace": "obs"},
                                                                     "data": {"tempo.yaml": "storage: s3\n" * 8}}, None, k8s),
        _resource("kubernetes:apps/v1:Deployment", f"{name}-app", {"metadata": {"name": name}, "spec": {"replicas": 2,
                  "template": {"spec": {"containers": [{"name": "tempo", "image": "grafana/tempo:2.6.0", "args": ["-config=/etc/t"]}]}}}},
                  None, k8s),
    ]


def synthetic_export(count: int) -> list[dict]:
    """The stack, its providers, a bare log bucket (the violations an audit reports), then bucket groups."""
    aws = _resource("pulumi:providers:aws", "hub-aws", {"region": "eu-central-1", "defaultTags": json.dumps(
        {"tags": {"data-residency": "gdpr", "obsfleet-stack": STACK}})})
    k8s = _resource("pulumi:providers:kubernetes", "hub-k8s", {"context": "hub"})
    logs = _resource("aws:s3/bucket:Bucket", "logs", {}, {"bucket": "logs-abc", "region": "eu-central-1"}, f"{aws['urn']}::{aws['id']}")
    head = [{"urn": f"{PREFIX}pulumi:pulumi:Stack::obsfleet-{STACK}", "custom": False, "type": "pulumi:pulumi:Stack"}, aws, k8s, logs]
    resources = list(head)
    index = 0
    while len(resources) < count:
        resources += _bucket_group(index, f"{aws['urn']}::{aws['id']}", f"{k8s['urn']}::{k8s['id']}")
        index += 1
    return resources[:count]


def measure(pack_dir: Path, resources: list[dict], repeat: int) -> tuple[float, int]:
    """Best-of-`repeat` seconds for one audit over a running pack, and the violations it found."""
    with PackProcess(project="obsfleet", stack=STACK, pack_dir=pack_dir) as pack:
        timings, found = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            found = len(pack.run(resources))
            timings.append(time.perf_counter() - started)
    return min(timings), found


def timed(label: str, action: Callable[[], tuple[float, int]], count: int) -> float:
    seconds, found = action()
    print(f"{label:>10}: {count / seconds:8.0f} resources/s  ({seconds:.2f}s, {found} violations)")
    return seconds


def noop_pack(directory: Path, floor: bool = False) -> Path:
    (directory / "PulumiPolicy.yaml").write_text(f"runtime:\n  name: python\n  options:\n    virtualenv: {ROOT / 'venv'}\n")
    (directory / "__main__.py").write_text(noop_main(floor))
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    resources = synthetic_export(args.resources)
    with tempfile.TemporaryDirectory() as same, tempfile.TemporaryDirectory() as floor:
        started = time.perf_counter()
        with PackProcess(project="obsfleet", stack=STACK):
            startup = time.perf_counter() - started
        print(f"{len(resources)} resources; pack start-up {startup:.2f}s (excluded below)")
        real = timed("obsfleet", lambda: measure(PACK_DIR, resources, args.repeat), len(resources))
        baseline = timed("no-op", lambda: measure(noop_pack(Path(same)), resources, args.repeat), len(resources))
        timed("1-policy", lambda: measure(noop_pack(Path(floor), floor=True), resources, args.repeat), len(resources))
    print(f"     ratio: {real / baseline:.2f}x the no-op pack (same policies, empty validations)")
    print("  1-policy: one empty resource policy, the SDK Analyzer server's own ceiling on this machine")


if __name__ == "__main__":
    main()
