"""`review audit` over exports shaped like real `pulumi stack export` output of other projects
(pulumi-aws 6 / 7 programs written without obsfleet): engine bookkeeping fields, `null` property
dependencies, secrets, pending operations, external reads, default providers, the provider's
computed inline bucket settings. They audit normally: exit 0 or 1 by their content, never 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from review.cli import main

STACK = "urn:pulumi:dev::website"
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
          "ciphertext": "v1:lXzRb2B2mcPq1uHa:yPNKa6S0kYqGv3wTt2b9Mw=="}
PROVIDER_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _provider(name: str, region: Any, tags: Any = None) -> dict:
    inputs = {"region": region, "skipCredentialsValidation": "false", "skipRegionValidation": "true", "version": "6.66.2"}
    if tags is not None:
        inputs["defaultTags"] = json.dumps({"tags": tags})
    return {"urn": f"{STACK}::pulumi:providers:aws::{name}", "custom": True, "id": PROVIDER_ID, "type": "pulumi:providers:aws",
            "inputs": inputs, "outputs": dict(inputs), "created": "2025-03-02T10:11:12.123Z",
            "modified": "2025-03-02T10:11:12.123Z"}


def _bucket_v2(provider: dict, region: str) -> dict:
    """A BucketV2 as pulumi-aws 6 records it: inputs hold only what the program set; the outputs
    echo AWS's defaults (SSE-S3, the owner's grant) in the list-shaped inline settings."""
    name = "site-bucket-7f3c2e1"
    return {
        "urn": f"{STACK}::aws:s3/bucketV2:BucketV2::site-bucket", "custom": True, "id": name, "type": "aws:s3/bucketV2:BucketV2",
        "inputs": {"__defaults": ["bucket"], "bucket": name, "forceDestroy": False},
        "outputs": {
            "__meta": '{"e2bfb730-ecaa-11e6-8f88-34363bc7c4c0":{"create":1200000000000}}',
            "accelerationStatus": "", "acl": None, "arn": f"arn:aws:s3:::{name}", "bucket": name,
            "bucketDomainName": f"{name}.s3.amazonaws.com", "bucketPrefix": "", "corsRules": [], "forceDestroy": False,
            "grants": [{"id": "e07e3a6b1c0d4c8", "permissions": ["FULL_CONTROL"], "type": "CanonicalUser", "uri": ""}],
            "hostedZoneId": "Z3AQBSTGFYJSTF", "id": name, "lifecycleRules": [], "loggings": [], "objectLockEnabled": False,
            "policy": "", "region": region, "replicationConfigurations": [], "requestPayer": "BucketOwner",
            "serverSideEncryptionConfigurations": [{"rules": [{"applyServerSideEncryptionByDefaults": [
                {"kmsMasterKeyId": "", "sseAlgorithm": "AES256"}], "bucketKeyEnabled": False}]}],
            "tags": {}, "tagsAll": {}, "versionings": [{"enabled": False, "mfaDelete": False}], "websites": [],
        },
        "parent": f"{STACK}::pulumi:pulumi:Stack::website-dev",
        "provider": f"{provider['urn']}::{PROVIDER_ID}",
        "propertyDependencies": {"bucket": None, "forceDestroy": None},
        "dependencies": None,
        "created": "2025-03-02T10:11:14.001Z", "modified": "2025-03-02T10:11:14.001Z",
    }


def _export(resources: list[dict], **deployment: Any) -> dict:
    stack = {"urn": f"{STACK}::pulumi:pulumi:Stack::website-dev", "custom": False, "type": "pulumi:pulumi:Stack",
             "outputs": {"bucketName": "site-bucket-7f3c2e1", "dbPassword": SECRET}}
    return {"version": 3, "deployment": {
        "manifest": {"time": "2025-03-02T10:11:15.5Z", "magic": "e5a1b6c3", "version": "v3.150.0"},
        "secrets_providers": {"type": "service", "state": {"url": "https://api.pulumi.com", "owner": "acme",
                                                           "project": "website", "stack": "dev"}},
        "resources": [stack, *resources], **deployment}}


def _audit(tmp_path: Path, capsys: pytest.CaptureFixture[str], document: dict) -> tuple[int, list[dict]]:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document, indent=4))
    code = main(["audit", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, json.loads(out)["violations"]


def test_an_unhardened_pulumi_aws_6_bucket_fails_on_its_storage_controls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    provider = _provider("default_6_66_2", "us-east-1")
    external = {"urn": f"{STACK}::aws:iam/role:Role::imported", "custom": True, "id": "ci-role", "type": "aws:iam/role:Role",
                "external": True, "outputs": {"arn": "arn:aws:iam::123456789012:role/ci-role", "name": "ci-role"},
                "provider": f"{provider['urn']}::{PROVIDER_ID}"}
    document = _export([provider, _bucket_v2(provider, "us-east-1"), external], pending_operations=[
        {"resource": {"urn": f"{STACK}::aws:s3/bucketObject:BucketObject::index", "custom": True,
                      "type": "aws:s3/bucketObject:BucketObject", "inputs": {"bucket": "site-bucket-7f3c2e1"}},
         "type": "creating"}])
    code, violations = _audit(tmp_path, capsys, document)
    mandatory = {(v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in violations if v["enforcement"] == "mandatory"}
    assert code == 1
    assert mandatory == {(policy, "site-bucket") for policy in (
        "storage-encryption-at-rest", "storage-public-access-blocked", "storage-tls-only", "storage-retention-lifecycle")}
    regime = [v for v in violations if v["policy"] == "data-residency-unverifiable"]
    assert len(regime) == 1 and "could not tell its regime" in regime[0]["message"]


def test_the_same_export_tagged_ccpa_judges_residency(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    provider = _provider("default_6_66_2", "eu-west-1", tags={"data-residency": "ccpa"})
    code, violations = _audit(tmp_path, capsys, _export([provider, _bucket_v2(provider, "eu-west-1")]))
    residency = {(v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in violations if v["policy"].startswith("data-residency")}
    assert code == 1 and residency == {("data-residency-region", "site-bucket")}


def test_a_secret_provider_region_is_unverifiable_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    provider = _provider("default_6_66_2", SECRET, tags={"data-residency": "gdpr"})
    bucket = _bucket_v2(provider, "eu-west-1")
    del bucket["outputs"]["region"]
    _code, violations = _audit(tmp_path, capsys, _export([provider, bucket]))
    assert ("data-residency-unverifiable", "site-bucket") in {(v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in violations}
    assert not [v for v in violations if v["policy"] == "data-residency-region"]


GCS_NAME = "site-bucket-1a2b3c"


def _gcp_export(location_input: str, location_output: str, sink: str) -> dict:
    """A pulumi-gcp 8 program's export: the default provider from `gcp:project`/`gcp:region`, a bucket
    as declared (location in the program's spelling) and as GCS reports it, and a replication job."""
    provider = {"urn": f"{STACK}::pulumi:providers:gcp::default_8_12_1", "custom": True, "id": PROVIDER_ID,
                "type": "pulumi:providers:gcp", "inputs": {"project": "acme-web", "region": "europe-west1", "version": "8.12.1"},
                "outputs": {"project": "acme-web", "region": "europe-west1", "version": "8.12.1"}}
    reference = f"{provider['urn']}::{PROVIDER_ID}"
    name = GCS_NAME
    bucket = {"urn": f"{STACK}::gcp:storage/bucket:Bucket::site", "custom": True, "id": name, "type": "gcp:storage/bucket:Bucket",
              "inputs": {"__defaults": ["name"], "forceDestroy": False, "location": location_input, "name": name,
                         "uniformBucketLevelAccess": True},
              "outputs": {"autoclass": None, "cors": [], "customPlacementConfig": None, "effectiveLabels": {
                  "goog-pulumi-provisioned": "true"}, "encryption": None, "forceDestroy": False, "id": name, "labels": {},
                  "lifecycleRules": [], "location": location_output, "logging": None, "name": name, "project": "acme-web",
                  "projectNumber": "123456789012", "publicAccessPrevention": "inherited", "rpo": "DEFAULT",
                  "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}", "softDeletePolicy": {
                      "effectiveTime": "2025-03-02T10:11:14.001Z", "retentionDurationSeconds": 604800},
                  "storageClass": "STANDARD", "uniformBucketLevelAccess": True, "url": f"gs://{name}", "versioning": None},
              "parent": f"{STACK}::pulumi:pulumi:Stack::website-dev", "provider": reference,
              "propertyDependencies": {"forceDestroy": None, "location": None, "name": None}}
    spec = {"gcsDataSink": {"bucketName": sink, "path": ""}, "gcsDataSource": {"bucketName": name, "path": ""},
            "objectConditions": None, "transferOptions": None}
    job = {"urn": f"{STACK}::gcp:storage/transferJob:TransferJob::dr", "custom": True, "id": "transferJobs/1234",
           "type": "gcp:storage/transferJob:TransferJob",
           "inputs": {"description": "dr copy", "project": "acme-web", "replicationSpec": spec},
           "outputs": {"creationTime": "2025-03-02T10:11:15.001Z", "deletionTime": "", "description": "dr copy",
                       "eventStream": None, "name": "transferJobs/1234", "project": "acme-web", "replicationSpec": spec,
                       "schedule": None, "status": "ENABLED", "transferSpec": None},
           "parent": f"{STACK}::pulumi:pulumi:Stack::website-dev", "provider": reference,
           "propertyDependencies": {"replicationSpec": [bucket["urn"]]}, "dependencies": [bucket["urn"]]}
    return _export([provider, bucket, job])


@pytest.mark.parametrize(("location_input", "location_output", "sink", "expected"), [
    # A multi-region as spelt (the job then copies within that US bucket).
    ("us", "US", GCS_NAME, {("data-residency-region", "site"), ("data-residency-replication", "dr")}),
    ("eu", "EU", "dr-archive-elsewhere", {("data-residency-replication", "dr")}),  # copied out of the stack
    ("eu", "EU", GCS_NAME, set()),
])
def test_a_pulumi_gcp_8_export_is_judged_by_the_configured_regime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], location_input: str, location_output: str, sink: str,
    expected: set,
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"all": {"regime": "gdpr"}}))
    document = _gcp_export(location_input, location_output, sink)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(document))
    code = main(["audit", str(export), "--policy-config", str(path)])
    out, err = capsys.readouterr()
    residency = {(v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in json.loads(out)["violations"]
                 if v["policy"].startswith("data-residency") and v["enforcement"] == "mandatory"}
    assert code == 1 and residency == expected, err  # the storage policies fail this unhardened bucket anyway
