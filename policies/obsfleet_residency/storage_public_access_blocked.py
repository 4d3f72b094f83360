"""storage-public-access-blocked: no bucket is or can be made public."""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import EnforcementLevel

from ._buckets import ACL, BUCKET_POLICY, GCS_ACCESS, PUBLIC_ACCESS_BLOCK, Bucket, bucket_findings, per_cloud
from ._policy import Finding, stack_policy
from ._regions import Cloud
from ._values import UNKNOWN, Tri, all_of, any_item, any_of, dig, each, equals, every_item, flag, json_object, strings

NAME = "storage-public-access-blocked"
BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GROUPS = ("AllUsers", "AuthenticatedUsers")  # http://acs.amazonaws.com/groups/global/<group>
GCS_PUBLIC_MEMBERS = frozenset({"allusers", "allauthenticatedusers"})
GCS_PUBLIC_PREDEFINED = frozenset({"publicread", "publicreadwrite", "authenticatedread"})
CONTROL = {
    Cloud.AWS: "a public access block with all four settings on (" + ", ".join(BLOCKS) + ") and no public ACL "
    "grant or bucket policy Allow for Principal '*'",
    Cloud.GCP: "publicAccessPrevention 'enforced' together with uniformBucketLevelAccess, and no IAM member or ACL "
    "entity allUsers / allAuthenticatedUsers",
}
REMEDIATION = {
    Cloud.AWS: "give the bucket one aws.s3.BucketPublicAccessBlock with block_public_acls, block_public_policy, "
    "ignore_public_acls and restrict_public_buckets all True; drop public canned ACLs (public-read, "
    "public-read-write, authenticated-read), AllUsers/AuthenticatedUsers grants and Allow statements for Principal '*'",
    Cloud.GCP: "set public_access_prevention='enforced' and uniform_bucket_level_access=True on the bucket and remove "
    "allUsers / allAuthenticatedUsers from its IAM bindings, members and ACLs",
}


def _not(value: Tri) -> Tri:
    return value if value is UNKNOWN else not value


def _public_grant(grant: Any) -> Tri:
    """A grant to the AllUsers / AuthenticatedUsers group (BucketAcl `grantee.uri`, inline `uri`)."""
    uri = dig(grant, "grantee", "uri") if dig(grant, "grantee") is not None else dig(grant, "uri")
    if uri is UNKNOWN:
        return UNKNOWN
    return isinstance(uri, str) and any(uri.rstrip("/").endswith(group) for group in PUBLIC_GROUPS)


def _public_canned(acl: Any) -> Tri:
    return acl if acl is UNKNOWN else isinstance(acl, str) and acl.lower() in PUBLIC_CANNED_ACLS


def _public_grants(grants: Any) -> Tri:
    return any_item(grants, _public_grant)


def _public_acl(acl: Mapping[str, Any]) -> Tri:
    """An aws.s3.BucketAcl's (or an object's) properties: a canned `acl`, `accessControlPolicy.grants`
    or an ObjectCopy's `grants`."""
    return any_of([_public_canned(acl.get("acl")), _public_grants(dig(acl.get("accessControlPolicy"), "grants")),
                   _public_grants(acl.get("grants"))])


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return any(member == "*" for key in ("AWS", "CanonicalUser") for member in strings(dig(principal, key)))


# Condition keys that pin "everyone" to known principals or networks, as S3's own public-policy
# evaluation counts them; any other condition (aws:SecureTransport, a date) leaves it public.
RESTRICTING_KEYS = frozenset(key.lower() for key in (
    "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceOrgID",
    "aws:SourceOrgPaths", "aws:SourceIp", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths", "aws:userid", "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
))


def _restricted(condition: Any) -> bool:
    """Whether a Condition block pins the principal or network to fixed, non-wildcard values."""
    if not isinstance(condition, dict):
        return False
    for test, keys in condition.items():
        if not isinstance(keys, dict) or "Not" in str(test) or "IfExists" in str(test):
            continue
        for key, value in keys.items():
            values = strings(value)
            if str(key).lower() in RESTRICTING_KEYS and values and not any(_wildcard(str(key), v) for v in values):
                return True
    return False


# A source network wider than a /8 (IPv4) or /32 (IPv6) restricts next to nothing: 0.0.0.0/1 with
# 128.0.0.0/1 is the whole internet. Such a condition counts as everyone.
_WIDEST_FIXED_PREFIX = {4: 8, 6: 32}


def _wildcard(key: str, value: str) -> bool:
    """A value that fixes nothing: a wildcard, or (aws:SourceIp) a network wider than S3 counts as fixed."""
    if "*" in value or "?" in value:
        return True
    if key.lower() != "aws:sourceip":
        return False
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return True  # not a network S3 would accept as one: restricts nothing we can verify
    return network.prefixlen < _WIDEST_FIXED_PREFIX[network.version]


def _public_statement(statement: Any) -> Tri:
    """An Allow for everyone: Principal '*', or NotPrincipal (everyone but the principals it names)."""
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    everyone = _everyone(statement.get("Principal")) or statement.get("NotPrincipal") is not None
    return everyone and not _restricted(statement.get("Condition"))


def public_policy(document: Any) -> Tri:
    """Whether a policy document (object or JSON string) allows everyone in."""
    found = json_object(document)
    if found is UNKNOWN:
        return UNKNOWN
    statements = each(found, "Statement")
    return UNKNOWN if statements is UNKNOWN else any_of(_public_statement(s) for s in statements)


def _gcs_public(access: Any) -> Tri:
    """Whether a GCS IAM binding/member/policy or ACL resource opens its bucket to everyone."""
    members: list[Any] = [access.get("member"), access.get("entity"), *_list(access.get("members")),
                          *_list(access.get("roleEntities"))]
    policy = json_object(access.get("policyData"))
    if policy is UNKNOWN:
        return UNKNOWN
    for binding in _list(dig(policy, "bindings")):
        members += _list(dig(binding, "members"))
    predefined = access.get("predefinedAcl")
    if any(member is UNKNOWN for member in members) or predefined is UNKNOWN:
        return UNKNOWN
    if isinstance(predefined, str) and predefined.lower() in GCS_PUBLIC_PREDEFINED:
        return True
    # Members read "allUsers"; ACL role entities "READER:allUsers".
    return any(isinstance(m, str) and m.rsplit(":", 1)[-1].lower() in GCS_PUBLIC_MEMBERS for m in members)


def blocked(bucket: Bucket) -> Tri:
    if bucket.cloud is Cloud.GCP:
        subject = bucket.subject
        return all_of([
            equals(subject.get("publicAccessPrevention"), "enforced"),
            flag(subject.get("uniformBucketLevelAccess")),
            *(_not(_gcs_public(access)) for access in bucket.controls(GCS_ACCESS)),
        ])
    blocks = every_item(bucket.controls(PUBLIC_ACCESS_BLOCK), lambda block: all_of(flag(dig(block, key)) for key in BLOCKS))
    acls = [_not(_public_acl(acl)) for acl in bucket.controls(ACL)]
    inline_acls = [_not(_public_canned(acl)) for acl in bucket.inline(ACL, "acl")]
    inline_acls += [_not(_public_grants(grants)) for grants in bucket.inline(ACL, "grants")]
    policies = [_not(public_policy(policy.get("policy"))) for policy in bucket.controls(BUCKET_POLICY)]
    inline_policies = [_not(public_policy(policy)) for policy in bucket.inline(BUCKET_POLICY, "policy")]
    return all_of([blocks, *acls, *inline_acls, *policies, *inline_policies])


def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    return bucket_findings(resources, blocked, per_cloud(CONTROL), per_cloud(REMEDIATION))


POLICY = stack_policy(
    NAME,
    "S3 buckets have a public access block with all four settings on and grant nothing to everyone (ACLs, "
    "bucket policies); GCS buckets enforce public access prevention and uniform bucket-level access and "
    "grant nothing to allUsers / allAuthenticatedUsers.",
    EnforcementLevel.MANDATORY,
    check,
    f"AWS: {REMEDIATION[Cloud.AWS]}. GCP: {REMEDIATION[Cloud.GCP]}.",
)
