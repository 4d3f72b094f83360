"""The policy pack through the real Analyzer gRPC protocol, started the way the Pulumi engine starts it."""

from __future__ import annotations

import json
import os
import pkgutil
import random
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from policies.obsfleet_residency import pack as pack_module
from review.analyzer import UNKNOWN, PackError, PackProcess, Violation, reconcile_config, run_pack
from review.errors import BadInput
from tests.policies.builders import (
    BUCKET,
    BUCKET_POLICY,
    CIPHERTEXT,
    GCS_BUCKET,
    LIFECYCLE,
    PAB,
    REPLICATION,
    SSE,
    STACK,
    aws_provider,
    control_name,
    default_aws_provider,
    gcp_provider,
    gcs_bucket,
    hardened_s3,
    named,
    replication,
    resource,
    stack,
    stack_reference,
)

MANDATORY = {
    "data-residency-region", "data-residency-replication", "data-residency-flow", "storage-encryption-at-rest",
    "storage-public-access-blocked", "storage-tls-only", "storage-retention-lifecycle",
}
ADVISORY = {"storage-access-logging", "data-residency-unverifiable", "storage-unverifiable"}
RESIDENCY = {"data-residency-region", "data-residency-replication", "data-residency-flow", "data-residency-unverifiable"}


@pytest.fixture(scope="module")
def pack() -> Iterator[PackProcess]:
    # No PYTHONPATH, as under `pulumi preview`: the pack must find its own modules itself.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PYTHONPATH", raising=False)
        process = PackProcess(project="obsfleet", stack=STACK)
    with process:
        yield process


def eu_hub(replica_region: str = "eu-west-1", hub_regime: str = "gdpr") -> list[dict]:
    """A compliant AWS stack: a hardened bucket replicated in-boundary, GCS on the side, a StackReference."""
    eu = aws_provider("boundary-aws", "eu-central-1")
    replica = aws_provider("boundary-aws-replica", replica_region)
    source, target = hardened_s3("traces", eu), hardened_s3("replica", replica)
    return [stack(), eu, replica, *source, *target, replication(source[0], target[0], eu),
            stack_reference("acme/obsfleet/hub", {"regime": hub_regime, "region": "eu-central-1"})]


def ap_hub() -> list[dict]:
    ap = gcp_provider()
    return [stack(), ap, gcs_bucket("logs", ap, logging=None, name="logs-0abc"), gcs_bucket("traces", ap)]


def fired(violations: list[Violation]) -> set[tuple[str, str, str]]:
    return {(v.policy, v.urn.rsplit("::", 1)[-1], v.enforcement) for v in violations}


def without(resources: list[dict], type_: str, bucket: str = "traces") -> list[dict]:
    return [r for r in resources if not (r["type"] == type_ and r["urn"].endswith(f"::{control_name(bucket, type_)}"))]


# --- metadata ------------------------------------------------------------------------------------


def test_pack_describes_every_policy_with_its_level_remediation_and_schema(pack: PackProcess) -> None:
    info = pack.info
    assert info.name == "obsfleet-residency"
    levels = {p.name: analyzer_pb2.EnforcementLevel.Name(p.enforcementLevel).lower() for p in info.policies}
    assert levels == {**{n: "mandatory" for n in MANDATORY}, **{n: "advisory" for n in ADVISORY}}
    for policy in info.policies:
        assert policy.description and policy.remediation_steps, policy.name
    residency_schema = {p.name: set(p.configSchema.properties) for p in info.policies if p.name in RESIDENCY}
    assert all(keys == {"regime", "allowedCountries", "allowAdequacy"} for keys in residency_schema.values())


def test_the_pack_assembles_every_policy_module() -> None:
    package = Path(pack_module.__file__).parent
    modules = {m.name.replace("_", "-") for m in pkgutil.iter_modules([str(package)]) if not m.name.startswith("_")}
    assert modules - {"pack", "api"} == MANDATORY | ADVISORY == {p.name for p in pack_module.POLICIES}


# --- every policy passes and fails through the protocol ------------------------------------------


@pytest.mark.parametrize("stack_resources", [eu_hub, ap_hub], ids=["aws", "gcp"])
def test_compliant_stacks_pass_every_policy(pack: PackProcess, stack_resources: Any) -> None:
    assert pack.run(stack_resources()) == []


def _unknown_region(resources: list[dict]) -> list[dict]:
    bucket = named(resources, "traces")
    bucket["inputs"]["region"] = UNKNOWN
    bucket["outputs"]["region"] = UNKNOWN
    return resources


def _unknown_policy(resources: list[dict]) -> list[dict]:
    policy = named(resources, "traces-bucketpolicy")
    policy["outputs"]["policy"] = UNKNOWN
    return resources


def _region(resources: list[dict]) -> list[dict]:
    resources.append(resource(BUCKET, "stray", {"region": "us-east-1"}, provider=resources[1]))
    return resources


FAILURES = {
    # scenario: (mutation, {(policy, resource name, level)} that must fire, mandatory policies allowed to fire)
    "region": (_region, {("data-residency-region", "stray", "mandatory")}, {"data-residency-region", *MANDATORY - RESIDENCY}),
    "replication": (lambda r: eu_hub(replica_region="us-east-1"), {
        ("data-residency-replication", "traces-replication", "mandatory"),
        ("data-residency-region", "replica", "mandatory")}, {"data-residency-replication", "data-residency-region"}),
    "flow": (lambda r: eu_hub(hub_regime="ccpa"), {("data-residency-flow", "acme/obsfleet/hub", "mandatory")},
             {"data-residency-flow"}),
    "encryption": (lambda r: without(r, SSE), {("storage-encryption-at-rest", "traces", "mandatory")},
                   {"storage-encryption-at-rest"}),
    "public": (lambda r: without(r, PAB), {("storage-public-access-blocked", "traces", "mandatory")},
               {"storage-public-access-blocked"}),
    "tls": (lambda r: without(r, BUCKET_POLICY), {("storage-tls-only", "traces", "mandatory")}, {"storage-tls-only"}),
    "lifecycle": (lambda r: without(r, LIFECYCLE), {("storage-retention-lifecycle", "traces", "mandatory")},
                  {"storage-retention-lifecycle"}),
    "logging": (lambda r: ap_hub()[:-1] + [gcs_bucket("traces", r[1], logging=None)],
                {("storage-access-logging", "traces", "advisory")}, set()),
    "unknown region": (_unknown_region, {("data-residency-unverifiable", "traces", "advisory")}, set()),
    "unknown policy": (_unknown_policy, {("storage-unverifiable", "traces", "advisory")}, set()),
}


@pytest.mark.parametrize("scenario", FAILURES, ids=FAILURES.keys())
def test_each_policy_fires_on_the_expected_resource(pack: PackProcess, scenario: str) -> None:
    mutate, expected, allowed_mandatory = FAILURES[scenario]
    violations = pack.run(mutate(eu_hub()))
    assert expected <= fired(violations)
    assert {v.policy for v in violations if v.enforcement == "mandatory"} <= allowed_mandatory
    assert all("Remediation: " in v.message for v in violations)


def test_the_region_of_a_new_stack_is_judged_on_inputs(pack: PackProcess) -> None:
    """Analyze sees inputs (what the program declares), as during `pulumi preview`."""
    resources = eu_hub()
    bucket = named(resources, "traces")
    bucket["inputs"]["region"] = "us-east-1"
    assert ("data-residency-region", "traces", "mandatory") in fired(pack.run(resources))


# --- Analyze alone: what `pulumi up --skip-preview` sees before it creates each resource ---------------

KEY = "aws:kms/key:Key"


def _own_region(region: str) -> tuple[list[dict], Optional[dict], str]:
    provider = aws_provider()
    return [stack(), provider, resource(KEY, "stray", {"region": region}, provider=provider)], None, "stray"


def _provider_region(region: str) -> tuple[list[dict], Optional[dict], str]:
    loose = aws_provider("loose", region)
    return [stack(), loose, resource(KEY, "key", {}, provider=loose)], None, "key"


def _default_provider(region: str) -> tuple[list[dict], Optional[dict], str]:
    provider = default_aws_provider(region)
    return [stack(), provider, resource("aws:iam/role:Role", "role", provider=provider)], {"all": {"regime": "gdpr"}}, "role"


def _key_arn(region: str) -> tuple[list[dict], Optional[dict], str]:
    provider = aws_provider()
    sse = resource(SSE, "sse", {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": f"arn:aws:kms:{region}:123456789012:key/1"}}]}, provider=provider)
    return [stack(), provider, sse], None, "sse"


INPUT_CASES = {"own input": _own_region, "explicit provider": _provider_region,
               "default provider, regime from config": _default_provider, "KMS key named in the inputs": _key_arn}


@pytest.mark.parametrize("case", INPUT_CASES)
def test_analyze_alone_reports_what_the_inputs_prove(pack: PackProcess, case: str) -> None:
    """Each resource is judged as it is registered: an update stops before creating it."""
    resources, config, name = INPUT_CASES[case]("us-east-1")
    assert ("data-residency-region", name, "mandatory") in fired(pack.run(resources, config, whole_stack=False))
    compliant, config, _ = INPUT_CASES[case]("eu-west-1")
    assert pack.run(compliant, config, whole_stack=False) == []
    assert not [v for v in pack.run(compliant, config) if v.policy in RESIDENCY]


@pytest.mark.parametrize("case", INPUT_CASES)
def test_the_stack_analysis_does_not_report_again_what_analyze_reported(pack: PackProcess, case: str) -> None:
    resources, config, name = INPUT_CASES[case]("us-east-1")
    regional = [v for v in pack.run(resources, config) if v.policy == "data-residency-region"]
    assert [v.urn.rsplit("::", 1)[-1] for v in regional] == [name], regional


def test_outputs_only_facts_are_left_to_the_stack_analysis(pack: PackProcess) -> None:
    provider = aws_provider()
    resources = [stack(), provider, resource(KEY, "key", {}, outputs={"region": "us-east-1"}, provider=provider)]
    assert pack.run(resources, whole_stack=False) == []
    assert ("data-residency-region", "key", "mandatory") in fired(pack.run(resources))


def _boundary(inputs: dict) -> dict:
    return {"urn": f"urn:pulumi:{STACK}::obsfleet::obsfleet:index:ResidencyBoundary::boundary", "custom": False,
            "type": "obsfleet:index:ResidencyBoundary", "inputs": inputs,
            "outputs": {"regime": "gdpr", "countries": ["DE", "GB", "IE"]}}


@pytest.mark.parametrize(("inputs", "in_analyze", "in_stack"), [
    ({}, False, False),  # its countries only in its outputs: Analyze cannot tell, the stack can
    ({"regime": "gdpr", "countries": ["DE", "GB", "IE"]}, False, False),
    ({"regime": "gdpr", "countries": ["DE", "IE"]}, True, True),
])
def test_analyze_judges_against_the_boundary_components_input_countries(
    pack: PackProcess, inputs: dict, in_analyze: bool, in_stack: bool
) -> None:
    """A boundary that allows GB (adequacy) in London: no resource there is stopped on a guess."""
    london = aws_provider("london", "eu-west-2")
    component = _boundary(inputs)
    if "countries" in inputs:
        component["outputs"]["countries"] = inputs["countries"]
    resources = [stack(), component, london, resource(KEY, "key", {}, provider=london)]
    expected = ("data-residency-region", "key", "mandatory")
    assert (expected in fired(pack.run(resources, whole_stack=False))) is in_analyze
    assert (expected in fired(pack.run(resources))) is in_stack


def test_default_provider_region_from_config(pack: PackProcess) -> None:
    provider = default_aws_provider("us-west-2")
    resources = [stack(), provider, resource("aws:iam/role:Role", "role", provider=provider)]
    (violation,) = pack.run(resources, {"all": {"regime": "gdpr"}})
    assert violation.policy == "data-residency-region" and "provider 'default_7_51_1' `region` is us-west-2" in violation.message


def test_secret_values_are_unknown_not_passed(pack: PackProcess) -> None:
    resources = eu_hub()
    secret_provider = resources[1]
    secret_provider["inputs"]["region"] = CIPHERTEXT  # a real export's secret: unreadable, so unknown
    on_it = {r["urn"].rsplit("::", 1)[1] for r in resources if r.get("provider", "").startswith(secret_provider["urn"] + "::")}
    violations = pack.run(resources)
    assert {(v.policy, v.enforcement) for v in violations} == {("data-residency-unverifiable", "advisory")}
    assert {name for _, name, _ in fired(violations)} == on_it


def test_no_regime_anywhere_is_reported_once_as_not_checked(pack: PackProcess) -> None:
    untagged = aws_provider(regime=None)
    resources = [stack(), untagged, resource(BUCKET, "b", {"region": "us-east-1"}, outputs={"bucket": "b"}, provider=untagged)]
    residency = [v for v in pack.run(resources) if v.policy in RESIDENCY]
    assert [(v.policy, v.enforcement) for v in residency] == [("data-residency-unverifiable", "advisory")]
    assert residency[0].urn == resources[0]["urn"] and "residency was not checked" in residency[0].message


# --- config, layered as the engine layers it ---------------------------------------------------------


def test_schema_default_then_user_config(pack: PackProcess) -> None:
    resources = [stack(), aws_provider(), resource(BUCKET, "london", {"region": "eu-west-2"}, provider=aws_provider())]
    assert ("data-residency-region", "london", "mandatory") in fired(pack.run(resources))  # allowAdequacy: false
    allowed = pack.run(resources, {"data-residency-region": {"allowAdequacy": True}})
    assert not [v for v in allowed if v.policy == "data-residency-region"]


def test_enforcement_levels_from_user_config(pack: PackProcess) -> None:
    resources = without(eu_hub(), BUCKET_POLICY)
    assert {v.enforcement for v in pack.run(resources, {"all": "advisory"})} == {"advisory"}
    assert pack.run(resources, {"storage-tls-only": "disabled"}) == []
    tightened = pack.run(resources, {"all": "advisory", "storage-tls-only": {"enforcementLevel": "mandatory"}})
    assert {(v.policy, v.enforcement) for v in tightened} == {("storage-tls-only", "mandatory")}


def test_all_properties_reach_every_policy_that_takes_them(pack: PackProcess) -> None:
    violations = pack.run(eu_hub(), {"all": {"regime": "ccpa"}})
    assert {"data-residency-region", "data-residency-flow"} <= {v.policy for v in violations}
    assert "outside the ccpa boundary (from the policy config" in next(
        v.message for v in violations if v.policy == "data-residency-region")


@pytest.mark.parametrize(
    "config, reason",
    [
        ({"data-residency-region": {"regime": "hipaa"}}, "'hipaa' is not one of ccpa, gdpr, pdpa"),
        ({"data-residency-region": {"allowedCountries": ["UK"]}}, "allowedCountries[0]: 'UK' is not one of"),
        ({"data-residency-region": {"allowAdequacy": "yes"}}, "'yes' is not of type boolean"),
        ({"data-residency-region": {"regim": "gdpr"}}, "regim: no such setting"),
        ({"storage-tls": "mandatory"}, "no policy 'storage-tls'"),
        ({"storage-tls-only": "strict"}, "'strict' is not one of"),
        ({"storage-tls-only": 3}, "neither an enforcement level nor an object"),
        ({"all": {"colour": "red"}}, "no policy takes colour"),
    ],
)
def test_config_the_engine_would_reject_is_bad_input(pack: PackProcess, config: dict, reason: str) -> None:
    with pytest.raises(BadInput, match=None) as raised:
        reconcile_config(pack.info, config)
    assert reason in str(raised.value)


def _info_with_initial_config() -> analyzer_pb2.AnalyzerInfo:
    schema = struct_pb2.Struct()
    schema.update({"size": {"type": "number", "default": 1}, "name": {"type": "string"}})
    policy = analyzer_pb2.PolicyInfo(name="p", enforcementLevel=analyzer_pb2.MANDATORY,
                                     configSchema=analyzer_pb2.PolicyConfigSchema(properties=schema))
    initial = struct_pb2.Struct()
    initial.update({"size": 2, "name": "initial"})
    return analyzer_pb2.AnalyzerInfo(name="x", policies=[policy], initialConfig={
        "p": analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY, properties=initial)})


def test_layers_are_schema_defaults_then_initial_config_then_user() -> None:
    info = _info_with_initial_config()
    assert reconcile_config(info, None) == {"p": ("mandatory", {"size": 2, "name": "initial"})}
    assert reconcile_config(info, {"p": {"name": "user"}}) == {"p": ("mandatory", {"size": 2, "name": "user"})}
    info.ClearField("initialConfig")
    assert reconcile_config(info, {"p": "advisory"}) == {"p": ("advisory", {"size": 1})}


# --- robustness ------------------------------------------------------------------------------------

_TYPES = [BUCKET, GCS_BUCKET, SSE, PAB, BUCKET_POLICY, LIFECYCLE, REPLICATION, "aws:s3/bucketLogging:BucketLogging",
          "pulumi:pulumi:StackReference", "aws:iam/role:Role", "gcp:kms/keyRing:KeyRing", "kubernetes:core/v1:Secret"]
_KEYS = ["region", "location", "zone", "bucket", "rules", "policy", "tags", "labels", "encryption", "logging",
         "lifecycleRules", "publicAccessPrevention", "uniformBucketLevelAccess", "blockPublicAcls", "targetBucket",
         "serverSideEncryptionConfiguration", "replicationConfiguration", "customPlacementConfig", "outputs", "name",
         "applyServerSideEncryptionByDefault", "sseAlgorithm", "kmsMasterKeyId", "destination", "expiration", "days",
         "status", "Statement", "regime", "dataLocations", "defaultTags", "defaultLabels", "action", "type"]
_SCALARS = [UNKNOWN, "[secret]", CIPHERTEXT, "eu-central-1", "us-east-1", "EUR4", "mars-1", "", "Enabled", "aws:kms",
            "enforced", "Delete", "gdpr", "ccpa", '{"Statement": [{"Effect": "Deny"}]}', "{not json", 0.0, 14.0, -1.5,
            1e308, True, False, None, "arn:aws:s3:::b-0", "b-0"]


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.25:
        return {rng.choice(_KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 3 and roll < 0.4:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return rng.choice(_SCALARS)


def _fuzzed_stack(seed: int) -> list[dict]:
    rng = random.Random(seed)
    providers = [aws_provider("p-aws", rng.choice(["eu-central-1", UNKNOWN, None, "nowhere"]), rng.choice(["gdpr", None, "x"])),
                 gcp_provider("p-gcp", rng.choice(["asia-southeast1", "europe-west1"]), rng.choice(["pdpa", None]))]
    providers[0]["inputs"]["defaultTags"] = rng.choice([providers[0]["inputs"].get("defaultTags"), UNKNOWN, "{bad", {"tags": 5}])
    made: list[dict] = [stack(), *providers]
    for index in range(60):
        props = {rng.choice(_KEYS): _value(rng, 0) for _ in range(rng.randint(0, 6))}
        entry = resource(rng.choice(_TYPES), f"r{index}", props, outputs={**props, **{rng.choice(_KEYS): _value(rng, 0)}},
                         provider=rng.choice([*providers, None]))
        if made and rng.random() < 0.5:
            targets = rng.sample(made, k=min(len(made), 2))
            entry["propertyDependencies"] = {rng.choice(["bucket", "rules", "targetBucket", "logging"]): [t["urn"] for t in targets]}
        made.append(entry)
    return made


def _mutated(rng: random.Random, value: Any, top: bool = False) -> Any:
    """`value` with one part, at a random depth, replaced by a random value. JSON documents (policy
    documents, provider defaultTags) are mutated inside, so the checks reach their nested fields."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.dumps(_mutated(rng, json.loads(value)))
        except ValueError:
            pass
    if isinstance(value, dict) and value and (top or rng.random() < 0.8):
        key = rng.choice(sorted(value))
        return {**value, key: _mutated(rng, value[key])}
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        return [*value[:index], _mutated(rng, value[index]), *value[index + 1:]]
    return _value(rng, 1)


def _mutated_stack(seed: int) -> list[dict]:
    """The compliant stacks with a few values broken: random values reach deep into the checks,
    where a stack of random resources rarely gets (its buckets seldom have linked controls)."""
    rng = random.Random(seed)
    made = eu_hub() + ap_hub()[1:]
    for entry in made[1:]:
        for _ in range(rng.randint(0, 2)):
            field = rng.choice(["inputs", "outputs"])
            entry[field] = _mutated(rng, entry.get(field) or {"region": None}, top=True)
    return made


FUZZED = {**{f"random-{seed}": (_fuzzed_stack, seed) for seed in range(8)},
          **{f"mutated-{seed}": (_mutated_stack, seed) for seed in range(24)}}


@pytest.mark.parametrize("case", FUZZED)
def test_fuzzed_values_never_crash_the_analyzer(pack: PackProcess, case: str) -> None:
    build, seed = FUZZED[case]
    config: Optional[dict] = {"all": {"regime": "gdpr"}} if seed % 2 else None
    violations = pack.run(build(seed), config)  # a policy exception would surface as PackError
    assert all(v.policy in MANDATORY | ADVISORY and v.enforcement in ("mandatory", "advisory") for v in violations)


def _pack_children() -> set[int]:
    """PIDs of this process's children running a policy pack."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"pulumi.policy" in command:
            found.add(int(entry.name))
    return found


def test_run_pack_always_stops_the_pack(tmp_path: Path) -> None:
    before = _pack_children()
    assert run_pack([stack()], project="obsfleet", stack=STACK) == []
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('the pack is broken on purpose')\n")
    with pytest.raises(PackError, match="did not print its port.*broken on purpose"):
        run_pack([stack()], project="obsfleet", stack=STACK, pack_dir=tmp_path)
    assert _pack_children() == before
