"""Small stack-export resources for the policy tests, and the SDK objects the pack would build from them.

Everything is export-shaped (`pulumi stack export` v3 `deployment.resources` entries), so one
fixture feeds the plain check functions (through `stack_resources` / `resource_args`, which build
the SDK's PolicyResource / ResourceValidationArgs exactly as its Analyzer servicer does, proxies
included), the gRPC harness and `review audit`.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional

from google.protobuf import json_format, struct_pb2
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from review.analyzer import wire

PROJECT, STACK = "obsfleet", "hub"
S3 = "aws:s3/"
BUCKET = f"{S3}bucket:Bucket"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
SSE = f"{S3}bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = f"{S3}bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = f"{S3}bucketPolicy:BucketPolicy"
LIFECYCLE = f"{S3}bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = f"{S3}bucketLogging:BucketLogging"
REPLICATION = f"{S3}bucketReplicationConfig:BucketReplicationConfig"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
CIPHERTEXT = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "AAABAJ+x"}


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


def resource(type_: str, name: str, inputs: Optional[dict] = None, *, outputs: Optional[dict] = None,
             provider: Optional[dict] = None, deps: Optional[dict[str, list[dict]]] = None) -> dict:
    """An export entry; outputs default to the inputs (what a create plans), deps are resources."""
    inputs = inputs or {}
    entry: dict[str, Any] = {"urn": urn(type_, name), "custom": True, "type": type_, "id": f"{name}-id",
                             "inputs": inputs, "outputs": dict(inputs) if outputs is None else outputs}
    if provider is not None:
        entry["provider"] = f"{provider['urn']}::{provider['id']}"
    if deps:
        entry["propertyDependencies"] = {key: [d["urn"] for d in found] for key, found in deps.items()}
        entry["dependencies"] = sorted({d["urn"] for found in deps.values() for d in found})
    return entry


def stack() -> dict:
    return {"urn": urn("pulumi:pulumi:Stack", f"{PROJECT}-{STACK}"), "custom": False, "type": "pulumi:pulumi:Stack"}


def aws_provider(name: str = "boundary-aws", region: Optional[str] = "eu-central-1", regime: Optional[str] = "gdpr") -> dict:
    """An explicit provider as the ResidencyBoundary makes it: defaultTags is JSON, as the SDK sends it."""
    inputs: dict[str, Any] = {"skipCredentialsValidation": "false"}
    if region is not None:
        inputs["region"] = region
    if regime is not None:
        inputs["defaultTags"] = json.dumps({"tags": {"data-residency": regime, "obsfleet-stack": STACK}})
    return resource("pulumi:providers:aws", name, inputs)


def default_aws_provider(region: str) -> dict:
    """The engine's default provider: inputs from `aws:region` config, no tags."""
    return resource("pulumi:providers:aws", "default_7_51_1", {"region": region, "version": "7.51.1"})


def gcp_provider(name: str = "boundary-gcp", region: str = "asia-southeast1", regime: Optional[str] = "pdpa") -> dict:
    inputs: dict[str, Any] = {"region": region, "project": "acme-obs-ap"}
    if regime is not None:
        inputs["defaultLabels"] = json.dumps({"data-residency": regime})
    return resource("pulumi:providers:gcp", name, inputs)


def stack_reference(stack_name: str, outputs: dict, secret: Iterable[str] = ()) -> dict:
    return resource(STACK_REFERENCE, stack_name, {"name": stack_name},
                    outputs={"name": stack_name, "outputs": outputs, "secretOutputNames": list(secret)})


def deny_insecure_transport(bucket_name: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket_name}", f"arn:aws:s3:::{bucket_name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def control_name(bucket: str, type_: str) -> str:
    """The name `s3_bucket` gives `bucket`'s control of type `type_` ("traces-bucketpolicy")."""
    return f"{bucket}-{type_.rsplit(':', 1)[1].lower()}"


def s3_bucket(name: str, provider: dict, *, region: Optional[str] = None, log_bucket: Optional[dict] = None,
              omit: Iterable[str] = (), replace: Optional[dict[str, dict]] = None) -> list[dict]:
    """A bucket with every control as a separate v7 resource linked by propertyDependencies.bucket.

    `omit` drops controls by type token; `replace` swaps a control's inputs (besides `bucket`).
    Without `log_bucket` the bucket is treated as a log bucket (SSE-S3, no logging of its own).
    """
    own = {"region": region} if region else {}
    bucket = resource(BUCKET, name, own, outputs={**own, "bucket": f"{name}-0abc", "arn": f"arn:aws:s3:::{name}-0abc"},
                      provider=provider)
    sse = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:eu-central-1:123456789012:key/1"} if log_bucket \
        else {"sseAlgorithm": "AES256"}
    controls: dict[str, dict[str, Any]] = {
        SSE: {"rules": [{"applyServerSideEncryptionByDefault": sse, "bucketKeyEnabled": bool(log_bucket)}]},
        PAB: {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True},
        BUCKET_POLICY: {"policy": deny_insecure_transport(f"{name}-0abc")},
        LIFECYCLE: {"rules": [{"id": "expire", "status": "Enabled", "expiration": {"days": 14.0}}]},
    }
    if log_bucket:
        controls[LOGGING] = {"targetBucket": log_bucket["outputs"]["bucket"], "targetPrefix": "s3-access/"}
    controls.update(replace or {})
    made = [bucket]
    for type_, settings in controls.items():
        if type_ in omit:
            continue
        deps = {"bucket": [bucket]}
        if type_ == LOGGING and log_bucket:
            deps["targetBucket"] = [log_bucket]
        made.append(resource(type_, control_name(name, type_),
                             {"bucket": bucket["outputs"]["bucket"], **own, **settings}, provider=provider, deps=deps))
    return made


def hardened_s3(name: str, provider: dict, **options: Any) -> list[dict]:
    """A data bucket and its access-log bucket, both hardened."""
    logs = s3_bucket(f"{name}-logs", provider, region=options.get("region"))
    return s3_bucket(name, provider, log_bucket=logs[0], **options) + logs


def gcs_bucket(logical: str, provider: dict, **props: Any) -> dict:
    """A hardened GCS bucket (CMEK, enforced prevention, uniform access, delete rule, logging);
    `props` override its settings, None removes one."""
    settings = {
        "location": "ASIA-SOUTHEAST1", "name": f"{logical}-0abc",
        "encryption": {"defaultKmsKeyName": "projects/p/locations/asia-southeast1/keyRings/r/cryptoKeys/k"},
        "publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True,
        "lifecycleRules": [{"action": {"type": "Delete"}, "condition": {"age": 21.0}}],
        "logging": {"logBucket": "logs-0abc"},
    }
    settings.update(props)
    return resource(GCS_BUCKET, logical, {k: v for k, v in settings.items() if v is not None}, provider=provider)


def replication(source: dict, destination: dict, provider: dict, arn: Any = None) -> dict:
    target = arn if arn is not None else destination["outputs"]["arn"]
    return resource(REPLICATION, f"{source['urn'].rsplit('::', 1)[1]}-replication",
                    {"bucket": source["outputs"]["bucket"], "role": "arn:aws:iam::123456789012:role/r",
                     "rules": [{"id": "dr", "status": "Enabled", "destination": {"bucket": target}}]},
                    provider=provider, deps={"bucket": [source], "rules": [destination]})


# --- what the SDK hands a policy ---------------------------------------------------------------


def _sdk_props(values: dict) -> Any:
    """Through the wire and back, as the SDK's servicer deserialises them (proxies included)."""
    struct = struct_pb2.Struct()
    struct.update(wire(values))
    as_dict = json_format.MessageToDict(struct)
    return unknown_checking_proxy(deserialize_properties(as_dict))


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _provider_of(entry: dict, resources: list[dict]) -> Optional[PolicyProviderResource]:
    reference = entry.get("provider")
    if not reference:
        return None
    provider = next(r for r in resources if r["urn"] == reference.rsplit("::", 1)[0])
    return PolicyProviderResource(provider["type"], _sdk_props(provider["inputs"]), provider["urn"], provider["urn"].rsplit("::", 1)[1])


def stack_resources(resources: list[dict]) -> list[PolicyResource]:
    """What a StackValidationPolicy receives: outputs, providers' inputs, resolved dependencies."""
    made = {
        r["urn"]: PolicyResource(r["type"], _sdk_props(r.get("outputs") or {}), r["urn"], r["urn"].rsplit("::", 1)[1],
                                 _options(), _provider_of(r, resources), None, [], {})
        for r in resources
    }
    for r in resources:
        for key, urns in (r.get("propertyDependencies") or {}).items():
            made[r["urn"]].property_dependencies[key] = [made[u] for u in urns if u in made]
    return list(made.values())


def resource_args(entry: dict, resources: list[dict], config: Optional[dict] = None) -> ResourceValidationArgs:
    """What a ResourceValidationPolicy receives for `entry`: its inputs and its provider's."""
    return ResourceValidationArgs(entry["type"], _sdk_props(entry.get("inputs") or {}), entry["urn"],
                                  entry["urn"].rsplit("::", 1)[1], _options(), _provider_of(entry, resources), config)


def named(resources: list[dict], name: str) -> dict:
    return next(r for r in resources if r["urn"].rsplit("::", 1)[1] == name)

