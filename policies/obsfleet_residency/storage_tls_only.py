"""storage-tls-only: S3 buckets refuse plain-HTTP requests (GCS serves its APIs over TLS only)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

from pulumi_policy import EnforcementLevel

from ._buckets import BUCKET_POLICY, Bucket, bucket_findings
from ._policy import Finding, stack_policy
from ._regions import Cloud
from ._values import Tri, any_item, any_of, dig, json_object

NAME = "storage-tls-only"
CONTROL = {Cloud.AWS: "a bucket policy statement denying every request with aws:SecureTransport=false"}
REMEDIATION = {
    Cloud.AWS: "add an aws.s3.BucketPolicy with a statement {Effect: Deny, Principal: '*', Action: 's3:*', "
    "Resource: [<bucket ARN>, <bucket ARN>/*], Condition: {Bool: {aws:SecureTransport: 'false'}}}"
}


def _denies_plain_http(statement: Any) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    everyone = principal == "*" or "*" in _strings(dig(principal, "AWS"))
    all_actions = any(action in ("*", "s3:*") for action in _strings(statement.get("Action")))
    secure_transport = dig(statement.get("Condition"), "Bool", "aws:SecureTransport")
    insecure = any(str(value).lower() == "false" for value in _listed(secure_transport))  # "false", false, ["false"]
    resources = _strings(statement.get("Resource"))
    bucket_and_objects = "*" in resources or (
        any(r.endswith("/*") for r in resources) and any(not r.endswith("*") for r in resources)
    )
    return everyone and all_actions and insecure and bucket_and_objects


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _strings(value: Any) -> list[str]:
    return [v for v in _listed(value) if isinstance(v, str)]


def denies_plain_http(document: Any) -> Tri:
    """Whether a policy document (object or JSON string) has a statement denying non-TLS access."""
    return any_item(dig(json_object(document), "Statement"), _denies_plain_http)


def tls_only(bucket: Bucket) -> Optional[Tri]:
    if bucket.cloud is Cloud.GCP:
        return None
    policies = [denies_plain_http(policy.get("policy")) for policy in bucket.attached(BUCKET_POLICY)]
    return any_of([*policies, denies_plain_http(bucket.inline("policy"))])


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    return bucket_findings(resources, tls_only, CONTROL, REMEDIATION)


POLICY = stack_policy(
    NAME,
    "S3 buckets have a bucket policy denying every request made without TLS (aws:SecureTransport=false).",
    EnforcementLevel.MANDATORY,
    check,
    REMEDIATION[Cloud.AWS] + ".",
)
