"""TempoS3Backend: every control on the registered resources' inputs, on AWS and on GCP, under mocks."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pytest

from components.charts import LOKI, TEMPO, TEMPO_DISTRIBUTED
from components.regions import Cloud, Regime
from components.boundary import ResidencyBoundary, ResidencyBoundaryArgs
from components.residency import ResidencyError
from components.settings import OidcProvider
from components.storage import (
    TYPE,
    ObjectStore,
    Purpose,
    TempoS3Backend,
    TempoS3BackendArgs,
    gcp_account_id,
    tempo_storage_values,
)
from review.analyzer import run_pack
from review.engine import Recording, run_program
from tests.helm_reference import unknown_keys

OIDC = OidcProvider(
    arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/5C2A0F1E",
    url="https://oidc.eks.eu-central-1.amazonaws.com/id/5C2A0F1E",
)
ISSUER = "oidc.eks.eu-central-1.amazonaws.com/id/5C2A0F1E"
PROJECT = "acme-obs-ap"
BOUNDARIES = {
    Cloud.AWS: dict(regime=Regime.GDPR, cloud=Cloud.AWS, region="eu-central-1", stack="hub", cluster="hub-eu",
                    replica_region="eu-west-1"),
    Cloud.GCP: dict(regime=Regime.PDPA, cloud=Cloud.GCP, region="asia-southeast1", stack="hub", cluster="hub-ap",
                    project=PROJECT, replica_region="asia-east1"),
}
BACKENDS = {
    Cloud.AWS: dict(purpose=Purpose.TRACES, retention_days=14, namespace="observability", service_account="tempo",
                    oidc_provider=OIDC, replica_region="eu-west-1"),
    Cloud.GCP: dict(purpose=Purpose.LOGS, retention_days=21, namespace="observability", service_account="loki",
                    project=PROJECT, replica_region="asia-east1"),
}
NAMES = {Cloud.AWS: "hub-eu-traces", Cloud.GCP: "hub-ap-logs"}
# Keys the charts document only in comments or pass through verbatim (see components/storage/fragments.py).
FREE_FORM = {
    TEMPO: ["tempo.storage.trace.s3", "tempo.storage.trace.gcs", "serviceAccount.annotations"],
    TEMPO_DISTRIBUTED: ["storage.trace.s3", "storage.trace.gcs", "serviceAccount.annotations"],
    LOKI: ["loki.storage.bucketNames", "loki.rulerConfig", "serviceAccount.annotations"],
}
CREDENTIAL_TYPES = {"aws:iam/accessKey:AccessKey", "aws:iam/user:User", "aws:iam/userLoginProfile:UserLoginProfile",
                    "gcp:serviceaccount/key:Key", "gcp:storage/hmacKey:HmacKey"}
CREDENTIAL_KEYS = re.compile(r"access_?key|secret|credential|service_account$|password|token", re.IGNORECASE)

S3 = "aws:s3/"
BUCKET = {Cloud.AWS: "aws:s3/bucket:Bucket", Cloud.GCP: "gcp:storage/bucket:Bucket"}


class Built:
    """One backend's registrations, with lookups by logical name and by linked bucket."""

    def __init__(self, cloud: Cloud, recording: Recording):
        self.cloud, self.name = cloud, NAMES[cloud]
        self.resources = recording.resources
        self.outputs = recording.outputs
        self.by_name = {name_of(r): r for r in self.resources if r["type"] != "pulumi:pulumi:Stack"}
        self.component = self.by_name[self.name]

    def __getitem__(self, name: str) -> dict:
        return self.by_name[name]

    def of_type(self, type_: str) -> list[dict]:
        return [r for r in self.resources if r["type"] == type_]

    def config(self, type_: str, bucket: dict) -> dict:
        """The one config resource of `type_` whose `bucket` input depends on `bucket`."""
        (found,) = [r for r in self.of_type(type_) if r.get("propertyDependencies", {}).get("bucket") == [bucket["urn"]]]
        return found


def name_of(record: dict) -> str:
    return record["urn"].rsplit("::", 1)[1]


def provider_of(record: dict) -> str:
    return record["provider"].split("::")[-2]


def build(cloud: Cloud) -> Built:
    def program() -> None:
        boundary = ResidencyBoundary("boundary", ResidencyBoundaryArgs(**BOUNDARIES[cloud]))
        backend = TempoS3Backend(
            NAMES[cloud],
            TempoS3BackendArgs(boundary=boundary, **BACKENDS[cloud]),
            opts=pulumi.ResourceOptions(providers=boundary.providers),
        )
        pulumi.export("tempo", backend.tempo_storage(TEMPO))
        pulumi.export("tempo-distributed", backend.tempo_storage(TEMPO_DISTRIBUTED))
        pulumi.export("loki", backend.loki_storage())
        pulumi.export("bucket", backend.bucket)
        pulumi.export("replica", backend.replica_bucket)
        pulumi.export("identity", backend.role_arn if cloud is Cloud.AWS else backend.service_account_email)

    return Built(cloud, run_program(program, stack="hub"))


@pytest.fixture(scope="module")
def aws() -> Built:
    return build(Cloud.AWS)


@pytest.fixture(scope="module")
def gcp() -> Built:
    return build(Cloud.GCP)


@pytest.fixture(scope="module")
def built(aws: Built, gcp: Built) -> dict[Cloud, Built]:
    return {Cloud.AWS: aws, Cloud.GCP: gcp}


def declare_failing(cloud: Cloud, boundary: dict, backend: dict) -> tuple[Exception, list[dict]]:
    """Build a backend expected to fail; return the error and what was registered regardless."""
    raised: list[Exception] = []

    def program() -> None:
        made = ResidencyBoundary("boundary", ResidencyBoundaryArgs(**{**BOUNDARIES[cloud], **boundary}))
        try:
            TempoS3Backend(NAMES[cloud], TempoS3BackendArgs(boundary=made, **{**BACKENDS[cloud], **backend}))
        except ValueError as err:
            raised.append(err)

    recording = run_program(program, stack="hub")
    assert raised, "the backend was accepted"
    return raised[0], [r for r in recording.resources if NAMES[cloud] in r["urn"]]


# --- both clouds ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cloud", list(Cloud))
def test_every_child_is_parented_named_and_on_a_boundary_provider(built: dict[Cloud, Built], cloud: Cloud) -> None:
    backend = built[cloud]
    assert backend.component["type"] == TYPE
    children = [r for r in backend.resources if r.get("parent") == backend.component["urn"]]
    nested = [r for r in backend.resources if f"{TYPE}$" in r["urn"]]
    assert children and {r["urn"] for r in children} == {r["urn"] for r in nested}  # no grandchildren
    for child in children:
        assert name_of(child).startswith(f"{backend.name}-"), child["urn"]
        replica = name_of(child).startswith(f"{backend.name}-replica-")
        assert provider_of(child) == f"boundary-{cloud.value}" + ("-replica" if replica else ""), child["urn"]


@pytest.mark.parametrize("cloud", list(Cloud))
def test_no_static_credential_is_created_or_handed_to_a_chart(built: dict[Cloud, Built], cloud: Cloud) -> None:
    backend = built[cloud]
    assert not {r["type"] for r in backend.resources} & CREDENTIAL_TYPES

    def keys(value: Any, path: str = "") -> list[str]:
        if isinstance(value, dict):
            return [k for key, sub in value.items() for k in [f"{path}.{key}", *keys(sub, f"{path}.{key}")]]
        return []

    for chart in ("tempo", "tempo-distributed", "loki"):
        leaked = [k for k in keys(backend.outputs[chart]) if CREDENTIAL_KEYS.search(k.rsplit(".", 1)[1])]
        assert leaked == [], chart


@pytest.mark.parametrize("cloud", list(Cloud))
@pytest.mark.parametrize(("output", "chart"), [("tempo", TEMPO), ("tempo-distributed", TEMPO_DISTRIBUTED), ("loki", LOKI)])
def test_helm_fragment_keys_exist_in_the_chart(built: dict[Cloud, Built], cloud: Cloud, output: str, chart) -> None:
    assert unknown_keys(chart, built[cloud].outputs[output], FREE_FORM[chart]) == []


def test_aws_helm_fragments_point_at_the_bucket_with_irsa(aws: Built) -> None:
    bucket, role = aws.outputs["bucket"], aws.outputs["identity"]
    s3 = {"bucket": bucket, "endpoint": "s3.eu-central-1.amazonaws.com", "region": "eu-central-1"}
    account = {"create": True, "name": "tempo", "annotations": {"eks.amazonaws.com/role-arn": role}}
    assert aws.outputs["tempo"] == {"tempo": {"storage": {"trace": {"backend": "s3", "s3": s3}}}, "serviceAccount": account}
    assert aws.outputs["tempo-distributed"] == {"storage": {"trace": {"backend": "s3", "s3": s3}}, "serviceAccount": account}
    assert aws.outputs["loki"]["loki"]["storage"] == {"type": "s3", "bucketNames": {"chunks": bucket}, "s3": {"region": "eu-central-1"}}
    assert role == aws["hub-eu-traces-role"]["outputs"]["arn"]
    assert bucket == aws["hub-eu-traces-bucket"]["outputs"]["bucket"]


def test_gcp_helm_fragments_point_at_the_bucket_with_workload_identity(gcp: Built) -> None:
    bucket, email = gcp.outputs["bucket"], gcp.outputs["identity"]
    account = {"create": True, "name": "loki", "annotations": {"iam.gke.io/gcp-service-account": email}}
    assert gcp.outputs["loki"] == {
        "loki": {"storage": {"type": "gcs", "bucketNames": {"chunks": bucket}}, "rulerConfig": {"storage": {"type": "local"}}},
        "serviceAccount": account,
    }
    assert gcp.outputs["tempo"]["tempo"]["storage"]["trace"] == {"backend": "gcs", "gcs": {"bucket_name": bucket}}
    assert email == gcp["hub-ap-logs-gsa"]["outputs"]["email"]
    assert bucket == gcp["hub-ap-logs-bucket"]["outputs"]["name"]


def test_tempo_fragment_refuses_another_chart() -> None:
    store = ObjectStore(Cloud.AWS, "b", "eu-central-1", "tempo", "arn:aws:iam::123456789012:role/r")
    with pytest.raises(ValueError, match="loki 18.11.0 is not tempo or tempo-distributed"):
        tempo_storage_values(store, LOKI)


@pytest.mark.parametrize("cloud", list(Cloud))
def test_backend_passes_the_storage_and_residency_policies(built: dict[Cloud, Built], cloud: Cloud) -> None:
    violations = run_pack(built[cloud].resources, project="obsfleet", stack="hub")
    assert [v for v in violations if v.policy.startswith(("storage-", "data-residency-"))] == []


# --- AWS -----------------------------------------------------------------------------------------

AWS_BUCKETS = {  # logical name -> (days to expiry, key it is encrypted with or None for SSE-S3)
    "hub-eu-traces-bucket": (14, "hub-eu-traces-key"),
    "hub-eu-traces-access-logs": (90, None),
    "hub-eu-traces-replica-bucket": (14, "hub-eu-traces-replica-key"),
    "hub-eu-traces-replica-access-logs": (90, None),
}


def policy(record: dict, key: str = "policy") -> dict:
    return json.loads(record["inputs"][key])


def test_aws_buckets_are_auto_named_and_never_force_destroyed(aws: Built) -> None:
    buckets = aws.of_type(BUCKET[Cloud.AWS])
    assert {name_of(b) for b in buckets} == set(AWS_BUCKETS)
    for bucket in buckets:
        assert "bucket" not in bucket["inputs"] and "bucketPrefix" not in bucket["inputs"]
        assert not bucket["inputs"].get("forceDestroy")


@pytest.mark.parametrize("name", sorted(AWS_BUCKETS))
def test_aws_bucket_is_hardened(aws: Built, name: str) -> None:
    bucket = aws[name]
    days, key = AWS_BUCKETS[name]
    arn = bucket["outputs"]["arn"]
    (rule,) = aws.config(f"{S3}bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket)["inputs"]["rules"]
    if key:
        assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": aws[key]["outputs"]["arn"]}
        assert rule["bucketKeyEnabled"] is True
    else:  # S3 access-log delivery supports SSE-S3 only
        assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert rule["blockedEncryptionTypes"] == ["SSE-C"]

    blocks = aws.config(f"{S3}bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)["inputs"]
    assert [blocks.get(k) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")] == [True] * 4
    ownership = aws.config(f"{S3}bucketOwnershipControls:BucketOwnershipControls", bucket)["inputs"]
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    versioning = aws.config(f"{S3}bucketVersioning:BucketVersioning", bucket)
    assert versioning["inputs"]["versioningConfiguration"] == {"status": "Enabled"}

    statements = policy(aws.config(f"{S3}bucketPolicy:BucketPolicy", bucket))["Statement"]
    assert {
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    } in statements

    lifecycle = aws.config(f"{S3}bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket)
    expire, markers = lifecycle["inputs"]["rules"]
    assert expire["status"] == "Enabled" and expire["filter"] == {"prefix": ""}
    assert expire["expiration"] == {"days": days}
    assert expire["noncurrentVersionExpiration"] == {"noncurrentDays": 7}
    assert expire["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    assert markers["expiration"] == {"expiredObjectDeleteMarker": True}
    assert versioning["urn"] in lifecycle["dependencies"]


@pytest.mark.parametrize("site", ["hub-eu-traces", "hub-eu-traces-replica"])
def test_aws_access_logs_go_to_the_sites_log_bucket_only_from_its_bucket(aws: Built, site: str) -> None:
    bucket, logs = aws[f"{site}-bucket"], aws[f"{site}-access-logs"]
    logging = aws.config(f"{S3}bucketLogging:BucketLogging", bucket)
    assert logging["inputs"]["targetBucket"] == logs["outputs"]["bucket"]
    assert logging["inputs"]["targetPrefix"] == "s3-access/"
    assert logging["inputs"]["targetObjectKeyFormat"] == {"partitionedPrefix": {"partitionDateSource": "EventTime"}}
    assert logging["propertyDependencies"]["targetBucket"] == [logs["urn"]]
    assert [r for r in aws.of_type(f"{S3}bucketLogging:BucketLogging")
            if r["propertyDependencies"]["bucket"] == [logs["urn"]]] == []  # a log bucket does not log itself
    delivery = policy(aws.config(f"{S3}bucketPolicy:BucketPolicy", logs))["Statement"][1]
    assert delivery == {
        "Sid": "S3ServerAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"{logs['outputs']['arn']}/s3-access/*",
        "Condition": {"ArnLike": {"aws:SourceArn": bucket["outputs"]["arn"]}, "StringEquals": {"aws:SourceAccount": "123456789012"}},
    }


@pytest.mark.parametrize(("key", "region"), [("hub-eu-traces-key", None), ("hub-eu-traces-replica-key", "eu-west-1")])
def test_aws_keys_rotate_and_sit_in_their_buckets_region(aws: Built, key: str, region: str | None) -> None:
    inputs = aws[key]["inputs"]
    assert inputs["enableKeyRotation"] is True
    assert inputs.get("region") == region  # the replica names its region; the primary uses its provider's


def test_aws_replica_resources_name_their_region(aws: Built) -> None:
    replica = [r for r in aws.resources if name_of(r).startswith("hub-eu-traces-replica-")]
    assert len(replica) == 3 + 2 * 6 + 1  # key, two buckets, six controls each, logging
    assert {r["inputs"].get("region") for r in replica} == {"eu-west-1"}


def test_aws_irsa_trust_is_limited_to_the_service_account(aws: Built) -> None:
    (statement,) = policy(aws["hub-eu-traces-role"], "assumeRolePolicy")["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Federated": OIDC.arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:observability:tempo",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }},
    }


def test_aws_workload_policy_is_this_bucket_and_this_key_only(aws: Built) -> None:
    bucket, key = aws["hub-eu-traces-bucket"]["outputs"]["arn"], aws["hub-eu-traces-key"]["outputs"]["arn"]
    attached = aws["hub-eu-traces-role-policy"]
    assert attached["propertyDependencies"]["role"] == [aws["hub-eu-traces-role"]["urn"]]
    assert policy(attached)["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectTagging",
                                       "s3:PutObjectTagging"], "Resource": f"{bucket}/*"},  # Tempo tags its objects
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], "Resource": key},
    ]


def test_aws_replication_is_sse_kms_into_the_replica_after_versioning(aws: Built) -> None:
    (config,) = aws.of_type(f"{S3}bucketReplicationConfig:BucketReplicationConfig")
    source, replica = aws["hub-eu-traces-bucket"], aws["hub-eu-traces-replica-bucket"]
    assert config["propertyDependencies"]["bucket"] == [source["urn"]]
    assert provider_of(config) == "boundary-aws"
    (rule,) = config["inputs"]["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"] == {
        "bucket": replica["outputs"]["arn"],
        "storageClass": "STANDARD",
        "encryptionConfiguration": {"replicaKmsKeyId": aws["hub-eu-traces-replica-key"]["outputs"]["arn"]},
    }
    versionings = {aws.config(f"{S3}bucketVersioning:BucketVersioning", b)["urn"] for b in (source, replica)}
    assert versionings <= set(config["dependencies"])
    assert config["inputs"]["role"] == aws["hub-eu-traces-replication-role"]["outputs"]["arn"]

    (trust,) = policy(aws["hub-eu-traces-replication-role"], "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    grants = policy(aws["hub-eu-traces-replication-policy"])["Statement"]
    kms = {tuple(s["Action"]): (s["Resource"], s["Condition"]) for s in grants if s["Action"][0].startswith("kms:")}
    assert kms == {
        ("kms:Decrypt",): (aws["hub-eu-traces-key"]["outputs"]["arn"],
                           {"StringEquals": {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}}),
        ("kms:Encrypt", "kms:GenerateDataKey"): (aws["hub-eu-traces-replica-key"]["outputs"]["arn"],
                                                 {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}),
    }
    writes = [s for s in grants if "s3:ReplicateObject" in s["Action"]]
    assert [s["Resource"] for s in writes] == [f"{replica['outputs']['arn']}/*"]


# --- GCP -----------------------------------------------------------------------------------------

GCS_BUCKETS = {  # logical name -> (location, days to expiry)
    "hub-ap-logs-bucket": ("ASIA-SOUTHEAST1", 21),
    "hub-ap-logs-access-logs": ("ASIA-SOUTHEAST1", 90),
    "hub-ap-logs-replica-bucket": ("ASIA-EAST1", 21),
    "hub-ap-logs-replica-access-logs": ("ASIA-EAST1", 90),
}
GCS_AGENT = "serviceAccount:service-000000000000@gs-project-accounts.iam.gserviceaccount.com"


@pytest.mark.parametrize("name", sorted(GCS_BUCKETS))
def test_gcs_bucket_is_cmek_private_versioned_and_expiring(gcp: Built, name: str) -> None:
    bucket = gcp[name]
    location, days = GCS_BUCKETS[name]
    inputs = bucket["inputs"]
    assert inputs["location"] == location and inputs["project"] == PROJECT
    assert "name" not in inputs and not inputs.get("forceDestroy")

    encryption = inputs["encryption"]
    (key,) = [k for k in gcp.of_type("gcp:kms/cryptoKey:CryptoKey") if k["id"] == encryption["defaultKmsKeyName"]]
    (ring_urn,) = key["propertyDependencies"]["keyRing"]
    ring = next(r for r in gcp.resources if r["urn"] == ring_urn)
    assert ring["inputs"]["location"] == location.lower()  # the key sits where the data does
    assert encryption["googleManagedEncryptionEnforcementConfig"] == {"restrictionMode": "FullyRestricted"}
    assert encryption["customerSuppliedEncryptionEnforcementConfig"] == {"restrictionMode": "FullyRestricted"}
    (grant,) = [g for g in gcp.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
                if g["propertyDependencies"]["cryptoKeyId"] == [key["urn"]]]
    assert grant["urn"] in bucket["dependencies"]  # the agent may use the key before the bucket names it

    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["versioning"] == {"enabled": True}
    assert inputs["softDeletePolicy"] == {"retentionDurationSeconds": 0}
    assert inputs["lifecycleRules"] == [
        {"action": {"type": "Delete"}, "condition": {"age": days, "withState": "ANY"}},
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 7, "withState": "ARCHIVED"}},
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 1}},
    ]


@pytest.mark.parametrize("site", ["hub-ap-logs", "hub-ap-logs-replica"])
def test_gcs_access_logs_go_to_the_sites_log_bucket(gcp: Built, site: str) -> None:
    bucket, logs = gcp[f"{site}-bucket"], gcp[f"{site}-access-logs"]
    assert bucket["inputs"]["logging"] == {"logBucket": logs["outputs"]["name"]}
    assert "logging" not in logs["inputs"]
    writer = gcp[f"{site}-access-logs-writer"]["inputs"]
    assert writer == {"bucket": logs["outputs"]["name"], "role": "roles/storage.objectCreator",
                      "member": "group:cloud-storage-analytics@google.com"}


def test_gcp_keys_rotate_and_only_the_storage_agent_may_use_them(gcp: Built) -> None:
    keys = gcp.of_type("gcp:kms/cryptoKey:CryptoKey")
    assert len(keys) == 2
    assert {(k["inputs"]["rotationPeriod"], k["inputs"]["purpose"]) for k in keys} == {("7776000s", "ENCRYPT_DECRYPT")}
    grants = gcp.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert {(g["inputs"]["role"], g["inputs"]["member"]) for g in grants} == {
        ("roles/cloudkms.cryptoKeyEncrypterDecrypter", GCS_AGENT)
    }
    assert len(grants) == 2


def test_gcp_workload_identity_reaches_this_bucket_only(gcp: Built) -> None:
    account = gcp["hub-ap-logs-gsa"]
    assert account["inputs"] == {"accountId": "hub-ap-logs", "project": PROJECT,
                                 "displayName": "obsfleet logs storage (observability/loki)"}
    binding = gcp["hub-ap-logs-workload-identity"]
    assert binding["inputs"]["role"] == "roles/iam.workloadIdentityUser"
    assert binding["inputs"]["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[observability/loki]"
    assert binding["propertyDependencies"]["serviceAccountId"] == [account["urn"]]
    member = account["outputs"]["member"]
    grants = [g for g in gcp.of_type("gcp:storage/bucketIAMMember:BucketIAMMember") if g["inputs"]["member"] == member]
    assert [(g["inputs"]["role"], g["propertyDependencies"]["bucket"]) for g in grants] == [
        ("roles/storage.objectAdmin", [gcp["hub-ap-logs-bucket"]["urn"]])
    ]


def test_gcp_replication_copies_into_the_in_boundary_replica(gcp: Built) -> None:
    source, replica = gcp["hub-ap-logs-bucket"], gcp["hub-ap-logs-replica-bucket"]
    (job,) = gcp.of_type("gcp:storage/transferJob:TransferJob")
    assert job["inputs"]["replicationSpec"] == {
        "gcsDataSource": {"bucketName": source["outputs"]["name"]},
        "gcsDataSink": {"bucketName": replica["outputs"]["name"]},
    }
    agent = "serviceAccount:project-000000000000@storage-transfer-service.iam.gserviceaccount.com"
    roles = {name_of(g): (g["inputs"]["role"], g["inputs"]["bucket"]) for g in gcp.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
             if g["inputs"]["member"] == agent}
    assert roles == {
        "hub-ap-logs-replication-source": ("roles/storage.legacyBucketOwner", source["outputs"]["name"]),
        "hub-ap-logs-replication-sink": ("roles/storage.legacyBucketWriter", replica["outputs"]["name"]),
    }
    assert {gcp["hub-ap-logs-replication-source"]["urn"], gcp["hub-ap-logs-replication-sink"]["urn"]} <= set(job["dependencies"])
    assert gcp.outputs["replica"] == replica["outputs"]["name"]


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloud", "replica", "message"),
    [
        (Cloud.AWS, "us-east-1", r"^obsfleet:replicaRegion: 'us-east-1' \(US\) is outside the gdpr boundary"),
        (Cloud.AWS, "eu-west-2", r"'eu-west-2' \(GB\) is outside the gdpr boundary"),
        (Cloud.GCP, "australia-southeast1", r"'australia-southeast1' \(AU\) is outside the pdpa boundary"),
        (Cloud.GCP, "EU", r"'EU' \(.*\) is outside the pdpa boundary"),
    ],
)
def test_replica_outside_the_boundary_declares_nothing(cloud: Cloud, replica: str, message: str) -> None:
    error, declared = declare_failing(cloud, {}, {"replica_region": replica})
    assert isinstance(error, ResidencyError) and re.search(message, str(error))
    assert declared == []


@pytest.mark.parametrize(
    ("cloud", "boundary", "backend", "message"),
    [
        (Cloud.AWS, {}, {"oidc_provider": None}, "oidc_provider is required on aws"),
        (Cloud.AWS, {}, {"project": PROJECT}, "project is for gcp only"),
        (Cloud.GCP, {}, {"project": None}, "project is required on gcp"),
        (Cloud.GCP, {}, {"oidc_provider": OIDC}, "oidc_provider is for aws only"),
        (Cloud.AWS, {}, {"replica_region": "eu-central-1"}, "'eu-central-1' is the primary region"),
        (Cloud.AWS, {"replica_region": None}, {}, "replica_region needs a boundary with a replica provider"),
        (Cloud.AWS, {}, {"service_account": "Tempo_SA"}, "service_account 'Tempo_SA' is not a Kubernetes name"),
        (Cloud.GCP, {}, {"service_account": "loki..sa"}, "service_account 'loki..sa' is not a Kubernetes name"),
        (Cloud.AWS, {}, {"service_account": "a" * 254}, "is not a Kubernetes name"),
        (Cloud.GCP, {}, {"namespace": "obs.system"}, "namespace 'obs.system' is not a DNS label"),
        (Cloud.GCP, {}, {"retention_days": 0}, "retention_days must be positive, not 0"),
        (Cloud.AWS, {}, {"purpose": "spans"}, "purpose 'spans' is not one of traces, logs, metrics"),
    ],
)
def test_bad_arguments_declare_nothing(cloud: Cloud, boundary: dict, backend: dict, message: str) -> None:
    error, declared = declare_failing(cloud, boundary, backend)
    assert message in str(error)
    assert declared == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hub-ap-traces", "hub-ap-traces"),
        ("hub", "hub-store"),
        ("7-eleven-logs", "sa-7-eleven-logs"),
        ("hub-asia-pacific-southeast-traces-primary", None),
    ],
)
def test_gcp_account_id_is_valid_for_any_component_name(name: str, expected: str | None) -> None:
    account_id = gcp_account_id(name)
    assert re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", account_id)
    if expected:
        assert account_id == expected
    else:
        assert account_id != gcp_account_id(name + "-2") and account_id.startswith("hub-asia-pacific")
