"""Buckets and every resource that configures or opens them (pulumi-aws 7, pulumi-gcp 10).

On AWS each control is a separate resource naming its bucket in `bucket` (v1 and the `...V2`
types alike); on GCS, IAM and ACL resources name it the same way. A control applies to the bucket
its `bucket` names, as the cloud applies it: a known name that is not one of the stack's buckets
configures some other bucket, not ours. Only while the name is unknown (preview) does the engine's
`propertyDependencies.bucket` link it. The deprecated inline bucket settings are controls too:
as declared (the bucket's inputs, recorded by Analyze), and as the outputs report them when no
separate control of that kind exists (otherwise the outputs only echo what the cloud had when the
bucket was read, AWS's own defaults included).

Several controls of one kind on one bucket are judged together: the cloud keeps one of them (for
S3 the last write wins) and which one is not knowable from the plan, so every one must comply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from ._attribution import Subject
from ._policy import Finding, finding
from ._regions import Cloud
from ._values import UNKNOWN, Tri, dig, text


def _s3(name: str) -> str:
    return f"aws:s3/{name[0].lower()}{name[1:]}:{name}"


def _gcs(module: str, name: str) -> str:
    return f"gcp:storage/{module}:{name}"


AWS_BUCKETS = frozenset({_s3("Bucket"), _s3("BucketV2")})
# The AWS Cloud Control package's bucket: where data is copied to and from, and what it sends
# elsewhere, are judged (`_copies`); its controls, spelt the CloudFormation way, are not.
NATIVE_S3_BUCKET = "aws-native:s3:Bucket"
GCS_BUCKET = _gcs("bucket", "Bucket")
ARN_PREFIX = "arn:aws:s3:::"

# Control kinds -> the resource types that are one (v1 and V2 spellings of one S3 API).
SSE = "encryption"
PUBLIC_ACCESS_BLOCK = "public-access-block"
BUCKET_POLICY = "bucket-policy"
LIFECYCLE = "lifecycle"
LOGGING = "logging"
REPLICATION = "replication"
ACL = "acl"
GCS_ACCESS = "gcs-access"
_KINDS: dict[str, str] = {
    **dict.fromkeys([_s3("BucketServerSideEncryptionConfiguration"), _s3("BucketServerSideEncryptionConfigurationV2")], SSE),
    _s3("BucketPublicAccessBlock"): PUBLIC_ACCESS_BLOCK,
    _s3("BucketPolicy"): BUCKET_POLICY,
    **dict.fromkeys([_s3("BucketLifecycleConfiguration"), _s3("BucketLifecycleConfigurationV2")], LIFECYCLE),
    **dict.fromkeys([_s3("BucketLogging"), _s3("BucketLoggingV2")], LOGGING),
    _s3("BucketReplicationConfig"): REPLICATION,
    # Objects carry ACLs of their own: a public object exposes the bucket's data like a public bucket.
    **dict.fromkeys([_s3("BucketAcl"), _s3("BucketAclV2"), _s3("BucketObject"), "aws:s3/bucketObjectv2:BucketObjectv2",
                     _s3("ObjectCopy")], ACL),
    **dict.fromkeys([
        _gcs("bucketIAMBinding", "BucketIAMBinding"), _gcs("bucketIAMMember", "BucketIAMMember"),
        _gcs("bucketIAMPolicy", "BucketIAMPolicy"), _gcs("bucketACL", "BucketACL"),
        _gcs("bucketAccessControl", "BucketAccessControl"), _gcs("defaultObjectACL", "DefaultObjectACL"),
        _gcs("defaultObjectAccessControl", "DefaultObjectAccessControl"), _gcs("objectACL", "ObjectACL"),
        _gcs("objectAccessControl", "ObjectAccessControl"),
        # Managed folders grant access to the objects under a prefix of their bucket.
        _gcs("managedFolderIamBinding", "ManagedFolderIamBinding"), _gcs("managedFolderIamMember", "ManagedFolderIamMember"),
        _gcs("managedFolderIamPolicy", "ManagedFolderIamPolicy"),
    ], GCS_ACCESS),
}


def kind_of(type_token: str) -> Optional[str]:
    return _KINDS.get(type_token)


@dataclass(eq=False)  # identity: buckets are compared as resources
class Bucket:
    subject: Subject
    configs: dict[str, list[Subject]] = field(default_factory=dict)  # control kind -> its resources
    log_target: bool = False  # receives other buckets' access logs

    @property
    def cloud(self) -> Cloud:
        return self.subject.cloud  # type: ignore[return-value]  # AWS for AWS_BUCKETS, GCP for GCS_BUCKET

    def attached(self, kind: str) -> list[Subject]:
        return self.configs.get(kind, [])

    def inline(self, kind: str, *keys: str) -> list[Any]:
        """The bucket's own settings under `keys` (spellings of one setting), each a control of
        `kind`: as declared; from the outputs only when neither the inputs nor a separate control
        set it. An unknown output is the provider's computed default in preview: not a control."""
        declared = [value for key in keys if _set(value := self.subject.declared(key))]
        if declared or self.attached(kind):
            return declared
        return [value for key in keys if _set(value := self.subject.get(key)) and value is not UNKNOWN]

    def controls(self, kind: str, *inline_keys: str) -> list[Any]:
        """Every control of `kind` on this bucket: the separate resources' properties (as a dict
        of their top-level values) and the inline settings under `inline_keys`."""
        separate = [_properties(control) for control in self.attached(kind)]
        return separate + (self.inline(kind, *inline_keys) if inline_keys else [])

    @property
    def names(self) -> list[str]:
        """The names the cloud knows this bucket by (name, ARN): what controls and policies use."""
        keys = ("bucket", "bucketName", "name", "id", "arn")
        return [name for key in keys if isinstance(name := text(self.subject.get(key)), str)]


def _set(value: Any) -> bool:
    return value is not None and value != [] and value != {} and value != ""


def _properties(subject: Subject) -> dict[str, Any]:
    return {key: subject.get(key) for key in subject.keys()}


class Buckets:
    """The stack's buckets, indexed by URN and by name/ARN, with their controls attached."""

    def __init__(self, resources: Sequence[Any]) -> None:
        self.all: list[Bucket] = []  # judged by the storage policies
        self.native: list[Bucket] = []  # NATIVE_S3_BUCKET: destinations and sources of copies only
        self.by_urn: dict[str, Bucket] = {}
        self.by_name: dict[str, Bucket] = {}
        self.configs: list[Subject] = []
        stack = {r.urn: r for r in resources}
        for resource in resources:
            kind = resource.resource_type
            if kind in AWS_BUCKETS or kind == GCS_BUCKET:
                self._add(Bucket(Subject(resource, stack)), self.all)
            elif kind == NATIVE_S3_BUCKET:
                self._add(Bucket(Subject(resource, stack)), self.native)
            elif kind in _KINDS:
                self.configs.append(Subject(resource, stack))
        for config in self.configs:  # every bucket is indexed by now: linking may go in any order
            kind = _KINDS[config.type]
            sources = self.linked(config, "bucket", config.get("bucket"))
            for bucket in sources:
                bucket.configs.setdefault(kind, []).append(config)
            if kind == LOGGING:
                _mark_log_buckets(self.linked(config, "targetBucket", config.get("targetBucket")), sources)
        for bucket in self.all:
            for destination in log_destinations(bucket):
                _mark_log_buckets(self.linked(bucket.subject, "logging", destination), [bucket])

    def _add(self, bucket: Bucket, listed: list[Bucket]) -> None:
        listed.append(bucket)
        self.by_urn[bucket.subject.urn] = bucket
        for name in bucket.names:
            self.by_name[name] = bucket

    def linked(self, subject: Subject, key: str, name: Any) -> list[Bucket]:
        """The bucket `subject.<key>` names: by name or ARN when known (a known name of no bucket
        here is a bucket elsewhere), by property dependency (URN) while it is unknown or unset."""
        if isinstance(text(name), str):
            return self.named(name)
        return self.dependencies(subject, key)

    def dependencies(self, subject: Subject, key: str) -> list[Bucket]:
        return [self.by_urn[urn] for urn in subject.deps(key) if urn in self.by_urn]

    def named(self, name: Any) -> list[Bucket]:
        if not isinstance(name, str):
            return []
        for candidate in (name, name.removeprefix(ARN_PREFIX), name.removeprefix("b/"), name.removeprefix("gs://")):
            found = self.by_name.get(candidate)
            if found:
                return [found]
        return []


def _mark_log_buckets(targets: list[Bucket], sources: list[Bucket]) -> None:
    for target in targets:
        if target not in sources:  # a bucket logging into itself is not a log bucket
            target.log_target = True


def log_destinations(bucket: Bucket) -> list[Any]:
    """The log buckets named by the bucket's own logging settings (AWS inline `logging(s)`, GCS `logging`)."""
    if bucket.cloud is Cloud.AWS:
        return [dig(setting, "targetBucket") for setting in flat(bucket.inline(LOGGING, "logging", "loggings"))]
    return [dig(bucket.subject.get("logging"), "logBucket")]


def flat(values: list[Any]) -> list[Any]:
    """`values` with each list among them replaced by its members."""
    return [member for value in values for member in (value if isinstance(value, list) else [value])]


# Index once per stack check (storage-unverifiable runs 5 checks on one list); held, so no id is reused.
_last: Optional[tuple[Sequence[Any], tuple[Any, ...], Buckets]] = None


def buckets_of(resources: Sequence[Any]) -> Buckets:
    """`Buckets(resources)`, reused while called with the very same list holding the very same resources."""
    global _last
    last = _last
    if last is not None and last[0] is resources and len(last[1]) == len(resources) and all(
        kept is now for kept, now in zip(last[1], resources)
    ):
        return last[2]
    buckets = Buckets(resources)
    _last = (resources, tuple(resources), buckets)
    return buckets


Judge = Callable[[Bucket], Optional[Tri]]  # None: the control does not apply to this bucket
Describe = Callable[[Bucket], str]  # the control a bucket needs, or how to fix it, for this very bucket


def bucket_findings(resources: Sequence[Any], judge: Judge, control: Describe, remediation: Describe) -> Iterable[Finding]:
    """A finding per bucket `judge` does not pass: certain when False, uncertain when UNKNOWN."""
    for bucket in buckets_of(resources).all:
        verdict = judge(bucket)
        if verdict is True or verdict is None:
            continue
        if verdict is UNKNOWN:
            problem = f"cannot verify {control(bucket)}: a deciding value is not known yet (preview) or secret"
        else:
            problem = f"does not have {control(bucket)} (every control of this kind on it must comply)"
        yield finding(bucket.subject, problem, remediation(bucket), certain=verdict is not UNKNOWN)


def per_cloud(texts: Mapping[Cloud, str]) -> Describe:
    """A Describe giving each cloud its text."""
    return lambda bucket: texts[bucket.cloud]
