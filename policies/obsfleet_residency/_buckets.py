"""Buckets and the configuration resources that harden them (pulumi-aws 7, pulumi-gcp 10).

On AWS each control is a separate resource pointing at its bucket: linked by
`propertyDependencies.bucket` (the engine records the URN even while the bucket name is unknown in
preview), falling back to the name in `bucket`. The deprecated inline bucket properties count
too: a bucket configured either way is configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from ._attribution import Subject
from ._policy import Finding, finding
from ._regions import Cloud
from ._values import UNKNOWN, Tri, dig, text

AWS_BUCKET = "aws:s3/bucket:Bucket"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
_CONFIGS = frozenset({SSE, PUBLIC_ACCESS_BLOCK, BUCKET_POLICY, LIFECYCLE, LOGGING, REPLICATION})


@dataclass(eq=False)  # identity: buckets are compared as resources
class Bucket:
    subject: Subject
    configs: dict[str, list[Subject]] = field(default_factory=dict)  # type token -> its config resources
    log_target: bool = False  # receives other buckets' access logs

    @property
    def cloud(self) -> Cloud:
        return self.subject.cloud  # type: ignore[return-value]  # cloud_of: AWS for AWS_BUCKET, GCP for GCS_BUCKET

    def attached(self, type_token: str) -> list[Subject]:
        return self.configs.get(type_token, [])

    def inline(self, *path: str) -> Any:
        """A deprecated inline S3 setting, only when known: in preview an unknown one is the
        provider's computed default (AWS's own defaults), not configuration the program set."""
        value = dig(self.subject.get(path[0]), *path[1:])
        return None if value is UNKNOWN else value


class Buckets:
    """The stack's buckets, indexed by URN and by name/ARN, with their config resources attached."""

    def __init__(self, resources: Sequence[Any]) -> None:
        self.all: list[Bucket] = []
        self.by_urn: dict[str, Bucket] = {}
        self.by_name: dict[str, Bucket] = {}
        self.configs: list[Subject] = []
        for resource in resources:
            kind = resource.resource_type
            if kind in (AWS_BUCKET, GCS_BUCKET):
                self._add(Bucket(Subject(resource)))
            elif kind in _CONFIGS:
                self.configs.append(Subject(resource))
        for config in self.configs:  # every bucket is indexed by now: linking may go in any order
            sources = self.linked(config, "bucket", config.get("bucket"))
            for bucket in sources:
                bucket.configs.setdefault(config.type, []).append(config)
            if config.type == LOGGING:
                _mark_log_buckets(self.linked(config, "targetBucket", config.get("targetBucket")), sources)
        for bucket in self.all:
            _mark_log_buckets(self.linked(bucket.subject, "logging", log_destination(bucket)), [bucket])

    def _add(self, bucket: Bucket) -> None:
        self.all.append(bucket)
        self.by_urn[bucket.subject.urn] = bucket
        for key in ("bucket", "name", "id", "arn"):
            name = text(bucket.subject.get(key))
            if isinstance(name, str):
                self.by_name[name] = bucket

    def linked(self, subject: Subject, key: str, name: Any) -> list[Bucket]:
        """Buckets `subject.<key>` points at: by property dependency (URN), else by `name` (name or ARN)."""
        return self.dependencies(subject, key) or self.named(name)

    def dependencies(self, subject: Subject, key: str) -> list[Bucket]:
        return [self.by_urn[urn] for urn in subject.deps(key) if urn in self.by_urn]

    def named(self, name: Any) -> list[Bucket]:
        found = self.by_name.get(name) if isinstance(name, str) else None
        return [found] if found else []


def _mark_log_buckets(targets: list[Bucket], sources: list[Bucket]) -> None:
    for target in targets:
        if target not in sources:  # a bucket logging into itself is not a log bucket
            target.log_target = True


def log_destination(bucket: Bucket) -> Any:
    """The bucket's own logging destination setting (AWS inline `logging`, GCS `logging`)."""
    if bucket.cloud is Cloud.AWS:
        return bucket.inline("logging", "targetBucket")
    return dig(bucket.subject.get("logging"), "logBucket")


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


def bucket_findings(
    resources: Sequence[Any], judge: Judge, control: Mapping[Cloud, str], remediation: Mapping[Cloud, str]
) -> Iterable[Finding]:
    """A finding per bucket `judge` does not pass: certain when False, uncertain when UNKNOWN.
    `control` names what is required, per cloud ("a public access block with all four settings")."""
    for bucket in buckets_of(resources).all:
        verdict = judge(bucket)
        if verdict is True or verdict is None:
            continue
        if verdict is UNKNOWN:
            problem = f"cannot verify {control[bucket.cloud]}: a deciding value is not known yet (preview) or secret"
        else:
            problem = f"missing {control[bucket.cloud]}"
        yield finding(bucket.subject, problem, remediation[bucket.cloud], certain=verdict is not UNKNOWN)
