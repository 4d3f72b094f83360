"""Red-team exports through the real Analyzer gRPC path (`review audit`): each evasion of a policy
gives exit 1 with that policy on that resource, and its compliant twin stays clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from review.analyzer import PackProcess
from review.cli import main
from tests.policies.builders import (
    BUCKET,
    BUCKET_POLICY,
    GCS_BUCKET,
    LIFECYCLE,
    LOGGING,
    PAB,
    SSE,
    STACK,
    aws_provider,
    control_name,
    deny_insecure_transport,
    gcp_provider,
    gcs_bucket,
    hardened_s3,
    named,
    resource,
    s3_bucket,
    stack,
    urn,
)

BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
ACL_V2 = "aws:s3/bucketAclV2:BucketAclV2"
GCS_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
KMS_KEY = "aws:kms/key:Key"
EU_KEY = "arn:aws:kms:eu-central-1:123456789012:key/1"
TRANSFER_JOB = "gcp:storage/transferJob:TransferJob"
MRAP = "aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint"
ROLE = "arn:aws:iam::123456789012:role/datasync"
S3_LOCATION = "aws:datasync/s3Location:S3Location"
INVENTORY = "aws:s3/inventory:Inventory"


def eu(name: str = "boundary-aws", region: Optional[str] = "eu-central-1", regime: Optional[str] = "gdpr") -> dict:
    return aws_provider(name, region, regime)


def hub(*extra: dict, provider: Optional[dict] = None) -> list[dict]:
    """A compliant EU stack: a hardened data bucket `traces` with its log bucket, plus `extra`."""
    provider = provider or eu()
    return [stack(), provider, *hardened_s3("traces", provider), *extra]


def control(type_: str, bucket: dict, name: str, props: dict, provider: dict) -> dict:
    """A control resource naming `bucket` as the cloud sees it (its name) and depending on it."""
    return resource(type_, name, {"bucket": bucket["outputs"]["bucket"], **props}, provider=provider,
                    deps={"bucket": [bucket]})


def second(type_: str, props: dict) -> Callable[[], list[dict]]:
    """The hub with a second control of `type_` on `traces`."""
    def build() -> list[dict]:
        provider = eu()
        resources = hub(provider=provider)
        return resources + [control(type_, named(resources, "traces"), "traces-second", props, provider)]
    return build


def edited(change: Callable[[list[dict]], Any]) -> Callable[[], list[dict]]:
    def build() -> list[dict]:
        resources = hub()
        change(resources)
        return resources
    return build


def _set(name: str, field: str, key: str, value: Any) -> Callable[[list[dict]], None]:
    def change(resources: list[dict]) -> None:
        named(resources, name)[field][key] = value
    return change


def _both(name: str, key: str, value: Any) -> Callable[[list[dict]], None]:
    def change(resources: list[dict]) -> None:
        entry = named(resources, name)
        entry["inputs"][key] = entry["outputs"][key] = value
    return change


def _lifecycle(rule: dict) -> Callable[[list[dict]], None]:
    return _both(control_name("traces", LIFECYCLE), "rules", [rule])


def _rule(**changes: Any) -> dict:
    return {"id": "expire", "status": "Enabled", "filter": {"prefix": ""}, "expiration": {"days": 14}, **changes}


def region_in_outputs_only(region: str) -> Callable[[], list[dict]]:
    """A key whose inputs set no region; its outputs (the engine's state) say `region`."""
    def build() -> list[dict]:
        provider = eu()
        return hub(resource(KMS_KEY, "stray", {}, outputs={"region": region}, provider=provider), provider=provider)
    return build


def provider_region_in_outputs_only(region: str) -> Callable[[], list[dict]]:
    def build() -> list[dict]:
        provider = eu("boundary-aws")
        other = eu("other", region=None)
        other["outputs"]["region"] = region
        return hub(other, resource(KMS_KEY, "key", {}, outputs={"arn": EU_KEY}, provider=other), provider=provider)
    return build


def untagged_provider(region: str) -> Callable[[], list[dict]]:
    def build() -> list[dict]:
        loose = eu("loose", region=region, regime=None)
        return hub(loose, resource(KMS_KEY, "stray", {}, provider=loose))
    return build


def tagged_provider(regime: str) -> Callable[[], list[dict]]:
    def build() -> list[dict]:
        other = eu("other", region="eu-west-1", regime=regime)
        return hub(other, resource(KMS_KEY, "key", {}, provider=other))
    return build


def bucket_v2(weak: bool) -> Callable[[], list[dict]]:
    """A BucketV2 with the pulumi-aws 6 list-shaped inline settings (as real exports hold them)."""
    def build() -> list[dict]:
        provider = eu()
        resources = hub(provider=provider)
        logs = named(resources, "traces-logs")
        algorithm = {"sseAlgorithm": "AES256"} if weak else {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": EU_KEY}
        inline = {
            "serverSideEncryptionConfigurations": [{"rules": [{"applyServerSideEncryptionByDefaults": [algorithm]}]}],
            "lifecycleRules": [{"enabled": True, "expirations": [{"days": 14}]}],
            "loggings": [{"targetBucket": logs["outputs"]["bucket"]}],
            "policy": deny_insecure_transport("v2-0abc"),
        }
        v2 = resource(BUCKET_V2, "v2", inline, outputs={**inline, "bucket": "v2-0abc", "arn": "arn:aws:s3:::v2-0abc"},
                      provider=provider)
        block = control(PAB, v2, "v2-pab", {k: True for k in (
            "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}, provider)
        return resources + [v2, block]
    return build


def inline_replication(destination: str) -> Callable[[], list[dict]]:
    def build() -> list[dict]:
        provider = eu()
        resources = hub(provider=provider)
        rules = {"role": "arn:aws:iam::123456789012:role/r",
                 "rules": [{"status": "Enabled", "destination": {"bucket": destination}}]}
        traces = named(resources, "traces")
        traces["inputs"]["replicationConfiguration"] = traces["outputs"]["replicationConfiguration"] = rules
        return resources
    return build


def kms_key_region(region: str) -> Callable[[], list[dict]]:
    def build() -> list[dict]:
        provider = eu()
        return hub(resource(KMS_KEY, "key", {"region": region}, provider=provider), provider=provider)
    return build


def gcs(**changes: Any) -> Callable[[], list[dict]]:
    def build() -> list[dict]:
        ap = gcp_provider()
        return [stack(), ap, gcs_bucket("logs", ap, logging=None, name="logs-0abc"), gcs_bucket("traces", ap, **changes)]
    return build


def gcs_member(member: str) -> Callable[[], list[dict]]:
    def build() -> list[dict]:
        resources = gcs()()
        ap, traces = resources[1], named(resources, "traces")
        return resources + [resource(GCS_MEMBER, "traces-reader", {"bucket": "traces-0abc", "role": "roles/storage.objectViewer",
                                                                   "member": member}, provider=ap, deps={"bucket": [traces]})]
    return build


def public_policy(statement: dict) -> Callable[[], list[dict]]:
    def build() -> list[dict]:
        provider = eu()
        resources = hub(provider=provider)
        document = json.loads(deny_insecure_transport("traces-0abc"))
        document["Statement"].append(statement)
        _both(control_name("traces", BUCKET_POLICY), "policy", json.dumps(document))(resources)
        return resources
    return build


def transfer_job(sink: Optional[dict] = None, posix: bool = False, spec: str = "transferSpec",
                 location: str = "ASIA-SOUTHEAST1") -> Callable[[], list[dict]]:
    """A Storage Transfer job copying `traces` to `sink` (a gcsDataSink), or to agents' POSIX file system;
    the stack also holds a bucket `elsewhere` at `location`."""
    def build() -> list[dict]:
        resources = gcs()()
        ap = resources[1]
        settings: dict[str, Any] = {"gcsDataSource": {"bucketName": "traces-0abc"}}
        if sink is not None:
            settings["gcsDataSink"] = sink
        if posix:
            settings["posixDataSink"] = {"rootDirectory": "/mnt/export"}
        other = gcs_bucket("elsewhere", ap, location=location, name="elsewhere-0abc", logging={"logBucket": "logs-0abc"})
        job = resource(TRANSFER_JOB, "copy", {"description": "copy", "project": "acme-obs-ap", spec: settings}, provider=ap)
        return resources + [other, job]
    return build


def access_point(*buckets: str, region: str = "eu-west-1") -> Callable[[], list[dict]]:
    """A Multi-Region Access Point over `buckets` (names); the stack also has hardened `west` in `region`."""
    def build() -> list[dict]:
        provider = eu()
        west = eu("west", region=region)
        resources = hub(west, *hardened_s3("west", west), provider=provider)
        details = {"name": "global", "regions": [{"bucket": name} for name in buckets]}
        return resources + [resource(MRAP, "global", {"details": details}, provider=provider)]
    return build


def datasync(location_type: str, location_inputs: dict) -> Callable[[], list[dict]]:
    """A DataSync task from the hub's `traces` bucket to a location of `location_type`."""
    def build() -> list[dict]:
        provider = eu()
        resources = hub(provider=provider)
        arn = "arn:aws:datasync:eu-central-1:123456789012:location/loc-"
        source = resource("aws:datasync/s3Location:S3Location", "from", {
            "s3BucketArn": "arn:aws:s3:::traces-0abc", "subdirectory": "/", "s3Config": {"bucketAccessRoleArn": ROLE}},
            outputs={"arn": f"{arn}1"}, provider=provider)
        target = resource(location_type, "to", location_inputs, outputs={**location_inputs, "arn": f"{arn}2"}, provider=provider)
        task = resource("aws:datasync/task:Task", "sync", {"sourceLocationArn": f"{arn}1", "destinationLocationArn": f"{arn}2"},
                        provider=provider, deps={"sourceLocationArn": [source], "destinationLocationArn": [target]})
        return resources + [source, target, task]
    return build


def native_bucket(region: str) -> Callable[[], list[dict]]:
    """A bucket of the AWS Cloud Control package, on its own (untagged) provider in `region`."""
    def build() -> list[dict]:
        native = resource("pulumi:providers:aws-native", "native", {"region": region, "version": "1.38.0"})
        return hub(native, resource("aws-native:s3:Bucket", "native-bucket", {"bucketName": "n-0abc"}, provider=native))
    return build


def boundaries(*countries: list[str], region: str = "us-east-1") -> Callable[[], list[dict]]:
    """ResidencyBoundary components recording `countries`, and a key in `region`."""
    def build() -> list[dict]:
        provider = eu()
        components = [{"urn": urn(f"{package}:index:ResidencyBoundary", f"boundary-{index}"), "custom": False,
                       "type": f"{package}:index:ResidencyBoundary", "outputs": {"regime": "gdpr", "countries": listed}}
                      for index, (package, listed) in enumerate(zip(("obsfleet", "other"), countries))]
        where = eu("where", region=region)
        return hub(*components, where, resource(KMS_KEY, "key", {}, provider=where), provider=provider)
    return build


def gcs_folder_member(member: str) -> Callable[[], list[dict]]:
    """A managed folder of `traces` granting `member` read access to the objects under it."""
    def build() -> list[dict]:
        resources = gcs()()
        ap, traces = resources[1], named(resources, "traces")
        return resources + [resource("gcp:storage/managedFolderIamMember:ManagedFolderIamMember", "folder-reader", {
            "bucket": "traces-0abc", "managedFolder": "shared/", "role": "roles/storage.objectViewer", "member": member},
            provider=ap, deps={"bucket": [traces]})]
    return build


def sends_to(type_: str, inputs: dict) -> Callable[[], list[dict]]:
    """The hub and one more resource of `type_` on its provider."""
    return lambda: hub(resource(type_, "sender", inputs, provider=eu()), provider=eu())


def backup_copy(region: str) -> dict:
    return {"name": "daily", "rules": [{"ruleName": "daily", "targetVaultName": "vault", "schedule": "cron(0 5 * * ? *)",
                                        "copyActions": [{"destinationVaultArn":
                                                         f"arn:aws:backup:{region}:123456789012:backup-vault:dr"}]}]}


def log_subscription(region: str) -> dict:
    return {"logGroup": "/obs/traces", "filterPattern": "", "roleArn": ROLE,
            "destinationArn": f"arn:aws:firehose:{region}:123456789012:deliverystream/export"}


def nested(region: str) -> Callable[[], list[dict]]:
    """A key declared inside a component (its URN carries the parent's type), in `region`."""
    def build() -> list[dict]:
        provider = eu()
        component = {"urn": urn("obsfleet:index:Hub", "hub"), "custom": False, "type": "obsfleet:index:Hub"}
        key = resource(KMS_KEY, "stray", {"region": region}, provider=provider)
        key["urn"] = key["urn"].replace("::aws:kms", "::obsfleet:index:Hub$aws:kms")
        key["parent"] = component["urn"]
        return hub(component, key, provider=provider)
    return build


def log_sink(destination: str) -> Callable[[], list[dict]]:
    """The GCS stack with a project log sink routing its logs to `destination`."""
    def build() -> list[dict]:
        resources = gcs()()
        return resources + [resource("gcp:logging/projectSink:ProjectSink", "sink", {
            "name": "export", "destination": destination, "filter": "severity>=INFO"}, provider=resources[1])]
    return build


def inventory(destination: str) -> Callable[[], list[dict]]:
    """The hub with an S3 inventory of `traces` delivered to `destination` (a bucket ARN)."""
    def build() -> list[dict]:
        provider = eu()
        resources = hub(provider=provider)
        return resources + [control(INVENTORY, named(resources, "traces"), "traces-inventory", {
            "name": "all", "includedObjectVersions": "Current", "schedule": {"frequency": "Daily"},
            "destination": {"bucket": {"bucketArn": destination, "format": "CSV"}}}, provider)]
    return build


def only_provider(regime: str, region: str = "eu-west-1") -> Callable[[], list[dict]]:
    """A stack whose one provider declares `regime` (as spelt), with a key in `region`."""
    def build() -> list[dict]:
        provider = eu(region=region, regime=regime)
        return [stack(), provider, resource(KMS_KEY, "key", {}, provider=provider)]
    return build


def endpoint(service: str, url: str) -> Callable[[], list[dict]]:
    """The hub on a boundary provider whose `endpoints` send `service` API calls to `url`, with a key."""
    def build() -> list[dict]:
        provider = eu()
        provider["inputs"]["endpoints"] = provider["outputs"]["endpoints"] = json.dumps([{service: url}])
        return hub(resource(KMS_KEY, "key", {}, provider=provider), provider=provider)
    return build


def native_copy(setting: str, target: str) -> Callable[[], list[dict]]:
    """Two buckets of the AWS Cloud Control package in eu-central-1; `source` replicates to (setting
    "replication") or logs into (setting "logging") the bucket named `target`."""
    def build() -> list[dict]:
        provider = resource("pulumi:providers:aws-native", "native", {"region": "eu-central-1", "version": "1.38.0"})
        inputs: dict[str, Any] = {"bucketName": "source-0abc"}
        if setting == "replication":
            inputs["replicationConfiguration"] = {"role": "arn:aws:iam::123456789012:role/r", "rules": [
                {"status": "Enabled", "destination": {"bucket": f"arn:aws:s3:::{target}"}}]}
        else:
            inputs["loggingConfiguration"] = {"destinationBucketName": target, "logFilePrefix": "s3/"}
        source = resource("aws-native:s3:Bucket", "source", inputs, outputs={**inputs, "arn": "arn:aws:s3:::source-0abc"},
                          provider=provider)
        other = resource("aws-native:s3:Bucket", "other", {"bucketName": "other-0abc"}, provider=provider)
        return hub(provider, source, other)
    return build


ALLOW_READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::traces-0abc/*"}
PAB_OFF = {k: False for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}
PAB_ON = {k: True for k in PAB_OFF}
KMS = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": EU_KEY}}]}
AES = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
OTHER_TLS = deny_insecure_transport("traces-logs-0abc")

# scenario: (violating export, compliant twin, (policy, resource name) that must fire as mandatory)
Scenario = tuple[Callable[[], list[dict]], Callable[[], list[dict]], tuple[str, str]]
SCENARIOS: dict[str, Scenario] = {
    "region only in outputs": (region_in_outputs_only("us-east-1"), region_in_outputs_only("eu-west-1"),
                               ("data-residency-region", "stray")),
    "provider region only in outputs": (provider_region_in_outputs_only("us-east-1"),
                                        provider_region_in_outputs_only("eu-west-1"), ("data-residency-region", "key")),
    "untagged provider outside": (untagged_provider("us-east-1"), untagged_provider("eu-west-1"),
                                  ("data-residency-region", "stray")),
    "provider of another regime": (tagged_provider("ccpa"), tagged_provider("gdpr"),
                                   ("data-residency-region", f"obsfleet-{STACK}")),
    "KMS key in another region": (kms_key_region("us-east-1"), kms_key_region("eu-west-1"), ("data-residency-region", "key")),
    "SSE names a key in another region": (
        edited(_both(control_name("traces", SSE), "rules", [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/1"}}])),
        edited(_both(control_name("traces", SSE), "rules", KMS["rules"])),
        ("data-residency-region", control_name("traces", SSE))),
    "GCS CMEK in another location": (
        gcs(encryption={"defaultKmsKeyName": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"}),
        gcs(), ("data-residency-region", "traces")),
    "inline replication outside the stack": (inline_replication("arn:aws:s3:::somewhere-else"),
                                             inline_replication("arn:aws:s3:::traces-logs-0abc"),
                                             ("data-residency-replication", "traces")),
    "second public access block off": (second(PAB, PAB_OFF), second(PAB, PAB_ON), ("storage-public-access-blocked", "traces")),
    "second encryption AES256": (second(SSE, AES), second(SSE, KMS), ("storage-encryption-at-rest", "traces")),
    "V2 encryption AES256": (second(SSE_V2, AES), second(SSE_V2, KMS), ("storage-encryption-at-rest", "traces")),
    "BucketV2 inline AES256": (bucket_v2(weak=True), bucket_v2(weak=False), ("storage-encryption-at-rest", "v2")),
    "second lifecycle disabled": (second(LIFECYCLE, {"rules": [_rule(status="Disabled")]}),
                                  second(LIFECYCLE, {"rules": [_rule()]}), ("storage-retention-lifecycle", "traces")),
    "lifecycle filter matching nothing": (edited(_lifecycle(_rule(filter={"prefix": "never/"}))),
                                          edited(_lifecycle(_rule(filter={}))), ("storage-retention-lifecycle", "traces")),
    "lifecycle far beyond retention": (edited(_lifecycle(_rule(expiration={"days": 36500}))),
                                       edited(_lifecycle(_rule(expiration={"days": 30}))),
                                       ("storage-retention-lifecycle", "traces")),
    "lifecycle on another bucket": (
        edited(_both(control_name("traces", LIFECYCLE), "bucket", "somebody-elses-bucket")),
        edited(_both(control_name("traces", LIFECYCLE), "bucket", "traces-0abc")),
        ("storage-retention-lifecycle", "traces")),
    "TLS deny on another bucket": (edited(_both(control_name("traces", BUCKET_POLICY), "policy", OTHER_TLS)),
                                   edited(_both(control_name("traces", BUCKET_POLICY), "policy",
                                                deny_insecure_transport("traces-0abc"))),
                                   ("storage-tls-only", "traces")),
    "public canned ACL": (second(ACL_V2, {"acl": "public-read"}), second(ACL_V2, {"acl": "private"}),
                          ("storage-public-access-blocked", "traces")),
    "public ACL grant": (
        second(ACL_V2, {"accessControlPolicy": {"owner": {"id": "o"}, "grants": [{"permission": "READ", "grantee": {
            "type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}]}}),
        second(ACL_V2, {"accessControlPolicy": {"owner": {"id": "o"}, "grants": [{"permission": "FULL_CONTROL", "grantee": {
            "type": "CanonicalUser", "id": "o"}}]}}),
        ("storage-public-access-blocked", "traces")),
    "public object in the bucket": (second("aws:s3/bucketObjectv2:BucketObjectv2", {"key": "index.html", "acl": "public-read"}),
                                    second("aws:s3/bucketObjectv2:BucketObjectv2", {"key": "index.html", "acl": "private"}),
                                    ("storage-public-access-blocked", "traces")),
    "inline public ACL": (edited(_both("traces", "acl", "public-read-write")), edited(_both("traces", "acl", "private")),
                          ("storage-public-access-blocked", "traces")),
    "bucket policy open to everyone": (
        public_policy({**ALLOW_READ, "Principal": "*"}),
        public_policy({**ALLOW_READ, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}),
        ("storage-public-access-blocked", "traces")),
    "everyone, with a condition that restricts nobody": (
        public_policy({**ALLOW_READ, "Principal": {"AWS": ["*"]}, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
        public_policy({**ALLOW_READ, "Principal": {"AWS": ["*"]},
                       "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}}),
        ("storage-public-access-blocked", "traces")),
    "DynamoDB replica in another region": (
        lambda: hub(resource("aws:dynamodb/table:Table", "table", {"replicas": [{"regionName": "us-east-1"}]}, provider=eu())),
        lambda: hub(resource("aws:dynamodb/table:Table", "table", {"replicas": [{"regionName": "eu-west-1"}]}, provider=eu())),
        ("data-residency-region", "table")),
    "transfer job to a bucket outside the stack": (transfer_job({"bucketName": "somebody-elses"}),
                                                   transfer_job({"bucketName": "logs-0abc"}),
                                                   ("data-residency-replication", "copy")),
    "transfer job to a stack bucket in the US": (transfer_job({"bucketName": "elsewhere-0abc"}, location="US"),
                                                transfer_job({"bucketName": "elsewhere-0abc"}),
                                                ("data-residency-replication", "copy")),
    "transfer job replicationSpec outside the stack": (
        transfer_job({"bucketName": "somebody-elses", "path": "x/"}, spec="replicationSpec"),
        transfer_job({"bucketName": "logs-0abc", "path": "x/"}, spec="replicationSpec"),
        ("data-residency-replication", "copy")),
    "transfer job to agents' POSIX file system": (transfer_job(posix=True), transfer_job({"bucketName": "logs-0abc"}),
                                                  ("data-residency-replication", "copy")),
    "multi-region access point over a bucket outside the stack": (
        access_point("traces-0abc", "somebody-elses"), access_point("traces-0abc", "west-0abc"),
        ("data-residency-replication", "global")),
    "multi-region access point over a stack bucket in the US": (
        access_point("traces-0abc", "west-0abc", region="us-east-1"), access_point("traces-0abc", "west-0abc"),
        ("data-residency-replication", "global")),
    "DataSync task to a bucket outside the stack": (
        datasync(S3_LOCATION, {"s3BucketArn": "arn:aws:s3:::somebody-elses", "subdirectory": "/",
                               "s3Config": {"bucketAccessRoleArn": ROLE}}),
        datasync(S3_LOCATION, {"s3BucketArn": "arn:aws:s3:::traces-logs-0abc", "subdirectory": "/",
                               "s3Config": {"bucketAccessRoleArn": ROLE}}),
        ("data-residency-replication", "sync")),
    "DataSync task to an NFS server": (
        datasync("aws:datasync/nfsLocation:NfsLocation", {"serverHostname": "nfs.example.com", "subdirectory": "/export",
                                                           "onPremConfig": {"agentArns": ["arn:aws:datasync:eu-central-1:1:agent/a"]}}),
        datasync(S3_LOCATION, {"s3BucketArn": "arn:aws:s3:::traces-logs-0abc", "subdirectory": "/",
                               "s3Config": {"bucketAccessRoleArn": ROLE}}),
        ("data-residency-replication", "sync")),
    "bucket of the native AWS package outside": (native_bucket("us-east-1"), native_bucket("eu-west-1"),
                                                 ("data-residency-region", "native-bucket")),
    "KMS key ARN with an uppercase region": (
        edited(_both(control_name("traces", SSE), "rules", [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:US-EAST-1:123456789012:key/1"}}])),
        edited(_both(control_name("traces", SSE), "rules", [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:EU-CENTRAL-1:123456789012:key/1"}}])),
        ("data-residency-region", control_name("traces", SSE))),
    "a second boundary component widening the countries": (
        boundaries(["DE", "IE"], ["DE", "IE", "US"]), boundaries(["DE", "IE"], ["DE", "IE", "US"], region="eu-west-1"),
        ("data-residency-region", "key")),
    "Allow for everyone but one principal (NotPrincipal)": (
        public_policy({**ALLOW_READ, "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}}),
        public_policy({**ALLOW_READ, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}),
        ("storage-public-access-blocked", "traces")),
    "everyone from two halves of the internet": (
        public_policy({**ALLOW_READ, "Principal": "*",
                       "Condition": {"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}}}),
        public_policy({**ALLOW_READ, "Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}}),
        ("storage-public-access-blocked", "traces")),
    "GCS managed folder open to allUsers": (gcs_folder_member("allUsers"),
                                            gcs_folder_member("serviceAccount:reader@p.iam.gserviceaccount.com"),
                                            ("storage-public-access-blocked", "traces")),
    "AWS Backup copies to a vault in another region": (sends_to("aws:backup/plan:Plan", backup_copy("us-east-1")),
                                                       sends_to("aws:backup/plan:Plan", backup_copy("eu-west-1")),
                                                       ("data-residency-region", "sender")),
    "log subscription to a stream in another region": (
        sends_to("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", log_subscription("us-east-1")),
        sends_to("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", log_subscription("eu-central-1")),
        ("data-residency-region", "sender")),
    "SNS subscription delivering to a queue in another region": (
        sends_to("aws:sns/topicSubscription:TopicSubscription", {
            "topic": "arn:aws:sns:eu-central-1:123456789012:alerts", "protocol": "sqs",
            "endpoint": "arn:aws:sqs:us-east-1:123456789012:alerts-copy"}),
        sends_to("aws:sns/topicSubscription:TopicSubscription", {
            "topic": "arn:aws:sns:eu-central-1:123456789012:alerts", "protocol": "sqs",
            "endpoint": "arn:aws:sqs:eu-central-1:123456789012:alerts-copy"}),
        ("data-residency-region", "sender")),
    "GCS location in lowercase": (gcs(location="us"), gcs(location="asia-southeast1"), ("data-residency-region", "traces")),
    "GCS predefined dual-region": (gcs(location="NAM4"), gcs(location="ASIA-SOUTHEAST1"), ("data-residency-region", "traces")),
    "GCS custom dual-region with a member outside": (
        gcs(location="ASIA", customPlacementConfig={"dataLocations": ["ASIA-SOUTHEAST1", "us-east1"]}),
        gcs(), ("data-residency-region", "traces")),
    "AWS region with a trailing space": (kms_key_region("us-east-1 "), kms_key_region("eu-west-1"),
                                         ("data-residency-region", "key")),
    "AWS region in capitals": (kms_key_region("US-EAST-1"), kms_key_region("eu-west-1"), ("data-residency-region", "key")),
    "resource nested in a component": (nested("us-east-1"), nested("eu-west-1"), ("data-residency-region", "stray")),
    "log sink to a bucket outside the stack": (log_sink("storage.googleapis.com/somebody-elses"),
                                               log_sink("storage.googleapis.com/logs-0abc"),
                                               ("data-residency-replication", "sink")),
    "log sink to a log bucket in another region": (
        log_sink("logging.googleapis.com/projects/acme-obs-ap/locations/us-central1/buckets/audit"),
        log_sink("logging.googleapis.com/projects/acme-obs-ap/locations/asia-southeast1/buckets/audit"),
        ("data-residency-replication", "sink")),
    "access logs shipped to a bucket outside the stack": (
        edited(_both(control_name("traces", LOGGING), "targetBucket", "central-logs-elsewhere")),
        edited(_both(control_name("traces", LOGGING), "targetBucket", "traces-logs-0abc")),
        ("data-residency-replication", control_name("traces", LOGGING))),
    "GCS usage logs shipped to a bucket outside the stack": (gcs(logging={"logBucket": "central-logs-elsewhere"}), gcs(),
                                                             ("data-residency-replication", "traces")),
    "S3 inventory delivered to a bucket outside the stack": (inventory("arn:aws:s3:::somebody-elses"),
                                                             inventory("arn:aws:s3:::traces-logs-0abc"),
                                                             ("data-residency-replication", "traces-inventory")),
    "regime tag with a trailing space": (only_provider("GDPR ", region="us-east-1"), only_provider("GDPR "),
                                         ("data-residency-region", "key")),
    "a regime the pack does not know": (only_provider("gdrp"), only_provider("gdpr"),
                                        ("data-residency-region", f"obsfleet-{STACK}")),
    "provider endpoint sending S3 calls to a foreign host": (endpoint("s3", "https://objects.example.net:9000"),
                                                             endpoint("s3", "https://s3.eu-central-1.amazonaws.com"),
                                                             ("data-residency-region", "traces")),
    "provider endpoint sending KMS calls to another region": (endpoint("kms", "https://kms.us-east-1.amazonaws.com"),
                                                              endpoint("kms", "https://kms.eu-west-1.amazonaws.com"),
                                                              ("data-residency-region", "key")),
    "native bucket replicating outside the stack": (native_copy("replication", "somebody-elses"),
                                                    native_copy("replication", "other-0abc"),
                                                    ("data-residency-replication", "source")),
    "native bucket logging outside the stack": (native_copy("logging", "somebody-elses"), native_copy("logging", "other-0abc"),
                                                ("data-residency-replication", "source")),
    "GCS IAM allUsers": (gcs_member("allUsers"), gcs_member("serviceAccount:reader@p.iam.gserviceaccount.com"),
                         ("storage-public-access-blocked", "traces")),
    "GCS IAM allAuthenticatedUsers": (gcs_member("allAuthenticatedUsers"), gcs_member("group:sre@example.com"),
                                      ("storage-public-access-blocked", "traces")),
}


def _export(tmp_path: Path, resources: list[dict], name: str) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": resources}}))
    return path


def _audit(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[dict]]:
    code = main(["audit", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, json.loads(out)["violations"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_evasion_fails_audit_and_its_compliant_twin_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    violating, compliant, (policy, name) = SCENARIOS[scenario]
    monkeypatch.delenv("PYTHONPATH", raising=False)
    code, violations = _audit(capsys, _export(tmp_path, violating(), "violating"))
    fired = {(v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in violations if v["enforcement"] == "mandatory"}
    assert code == 1 and (policy, name) in fired, violations
    code, violations = _audit(capsys, _export(tmp_path, compliant(), "compliant"))
    assert (code, violations) == (0, []), violations


# --- the regime without config ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack() -> Iterator[PackProcess]:
    with PackProcess(project="obsfleet", stack=STACK) as process:
        yield process


def test_a_stack_without_any_boundary_gets_one_advisory(pack: PackProcess) -> None:
    loose = eu("loose", regime=None)
    resources = [stack(), loose, resource(BUCKET, "b", {}, outputs={"bucket": "b-0abc"}, provider=loose)]
    residency = [v for v in pack.run(resources) if v.policy.startswith("data-residency")]
    assert [(v.policy, v.enforcement, v.urn) for v in residency] == [("data-residency-unverifiable", "advisory", urn(
        "pulumi:pulumi:Stack", f"obsfleet-{STACK}"))]
    assert "could not tell its regime" in residency[0].message


def test_the_policy_config_overrides_the_stacks_own_regime(pack: PackProcess) -> None:
    resources = hub()
    assert pack.run(resources) == []
    overridden = {v.policy for v in pack.run(resources, {"all": {"regime": "ccpa"}}) if v.enforcement == "mandatory"}
    assert overridden == {"data-residency-region", "data-residency-replication"}  # access logs go to an EU bucket too


def test_the_boundary_components_countries_bound_the_stack(pack: PackProcess) -> None:
    """With allowAdequacy the program's ResidencyBoundary allows GB; its recorded countries say so."""
    london = eu("london", region="eu-west-2")
    component = {"urn": urn("obsfleet:index:ResidencyBoundary", "boundary"), "custom": False,
                 "type": "obsfleet:index:ResidencyBoundary", "outputs": {"regime": "gdpr", "countries": ["DE", "GB", "IE"]}}
    resources = [stack(), component, london, resource(KMS_KEY, "key", {}, provider=london)]
    assert [v for v in pack.run(resources) if v.enforcement == "mandatory"] == []
    component["outputs"]["countries"] = ["DE", "IE"]
    assert {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in pack.run(resources)} >= {("data-residency-region", "key")}


# --- remediation fits the resource --------------------------------------------------------------


def test_an_access_log_bucket_is_told_to_use_sse_s3_not_sse_kms(pack: PackProcess) -> None:
    provider = eu()
    logs = s3_bucket("traces-logs", provider, omit=[SSE])
    data = s3_bucket("traces", provider, log_bucket=logs[0], omit=[SSE])
    violations = [v for v in pack.run([stack(), provider, *data, *logs]) if v.policy == "storage-encryption-at-rest"]
    by_name = {v.urn.rsplit("::", 1)[-1]: v.message for v in violations}
    remedy = {name: message.split("Remediation: ", 1)[1] for name, message in by_name.items()}
    assert "sse_algorithm='AES256'" in remedy["traces-logs"] and "aws:kms'" not in remedy["traces-logs"]
    assert "sse_algorithm='aws:kms'" in remedy["traces"]


def test_an_access_log_bucket_under_sse_kms_fails(pack: PackProcess) -> None:
    """S3 does not deliver server access logs to an SSE-KMS bucket: its logging would silently stop."""
    provider = eu()
    resources = hub(provider=provider)
    logs_sse = named(resources, control_name("traces-logs", SSE))
    logs_sse["inputs"]["rules"] = logs_sse["outputs"]["rules"] = KMS["rules"]
    fired = {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in pack.run(resources)}
    assert fired == {("storage-encryption-at-rest", "traces-logs")}


def test_bucket_types_cover_gcs_too(pack: PackProcess) -> None:
    assert GCS_BUCKET in {r["type"] for r in gcs()()}
    assert pack.run(gcs()()) == []
