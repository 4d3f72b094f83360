"""storage-tls-only: S3 buckets refuse plain-HTTP requests (GCS serves its APIs over TLS only)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Iterable, Mapping, Optional, Sequence

from pulumi_policy import EnforcementLevel

from ._buckets import ARN_PREFIX, BUCKET_POLICY, Bucket, bucket_findings, per_cloud
from ._policy import Finding, stack_policy
from ._regions import Cloud
from ._values import UNKNOWN, Tri, any_of, dig, each, every_item, json_object, strings

NAME = "storage-tls-only"
CONTROL = {Cloud.AWS: "a bucket policy statement denying every request to the bucket and its objects with "
                      "aws:SecureTransport=false"}
REMEDIATION = {
    Cloud.AWS: "give the bucket one aws.s3.BucketPolicy with a statement {Effect: Deny, Principal: '*', Action: 's3:*', "
    "Resource: [<this bucket's ARN>, <this bucket's ARN>/*], Condition: {Bool: {aws:SecureTransport: 'false'}}}"
}
_OBJECT_PROBES = ("/probe", "/any/prefix/probe.json")  # a deny must cover every object key


def _covers(patterns: list[str], arns: list[str]) -> bool:
    """Whether the statement's Resource patterns (IAM wildcards) cover the bucket and all its objects."""
    def matched(name: str) -> bool:
        return any(fnmatchcase(name, pattern.replace("[", "[[]")) for pattern in patterns)
    return any(matched(arn) and all(matched(arn + probe) for probe in _OBJECT_PROBES) for arn in arns)


def _denies_plain_http(statement: Any, arns: list[str]) -> Tri:
    if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
        return False
    if any(key in statement for key in ("NotPrincipal", "NotAction", "NotResource")):
        return False  # an exception list: not "every request"
    principal = statement.get("Principal")
    everyone = principal == "*" or "*" in strings(dig(principal, "AWS"))
    all_actions = any(action.lower() in ("*", "s3:*") for action in strings(statement.get("Action")))
    condition = statement.get("Condition")
    secure_transport = [dig(condition, test, "aws:SecureTransport") for test in ("Bool", "BoolIfExists")]
    insecure = any(str(value).lower() == "false" for found in secure_transport for value in _listed(found))
    if not (everyone and all_actions and insecure):
        return False
    if not arns:
        return UNKNOWN  # the bucket's ARN is not known yet: which bucket the statement covers is not either
    return _covers(strings(statement.get("Resource")), arns)


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def denies_plain_http(document: Any, arns: list[str]) -> Tri:
    """Whether a policy document (object or JSON string) denies non-TLS access to the bucket `arns` name."""
    found = json_object(document)
    if found is UNKNOWN:
        return UNKNOWN
    return any_of(_denies_plain_http(statement, arns) for statement in _statements(found))


def _statements(document: Any) -> list:
    found = each(document, "Statement")
    return found if isinstance(found, list) else []


def bucket_arns(bucket: Bucket) -> list[str]:
    return sorted({name if name.startswith(ARN_PREFIX) else ARN_PREFIX + name for name in bucket.names})


def tls_only(bucket: Bucket) -> Optional[Tri]:
    if bucket.cloud is Cloud.GCP:
        return None
    arns = bucket_arns(bucket)
    documents = [policy.get("policy") for policy in bucket.controls(BUCKET_POLICY)] + bucket.inline(BUCKET_POLICY, "policy")
    return every_item(documents, lambda document: denies_plain_http(document, arns))


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    return bucket_findings(resources, tls_only, per_cloud(CONTROL), per_cloud(REMEDIATION))


POLICY = stack_policy(
    NAME,
    "S3 buckets have a bucket policy denying every request to the bucket and its objects made without TLS "
    "(aws:SecureTransport=false).",
    EnforcementLevel.MANDATORY,
    check,
    REMEDIATION[Cloud.AWS] + ".",
)
