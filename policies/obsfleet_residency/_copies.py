"""Every resource that copies or routes a bucket's data somewhere, and where to (pulumi-aws 6/7,
pulumi-gcp 8/9, their native siblings).

A copy names its destination as the cloud will resolve it: a bucket (name or ARN), a DataSync
location (ARN), or a place outside every cloud bucket (an on-premises file system, another cloud).
S3 replication, inline or as a `BucketReplicationConfig`; Storage Transfer jobs (`transferSpec` and
`replicationSpec` sinks); S3 Multi-Region Access Points (each bucket they route requests to);
DataSync tasks (their destination location, and through it the bucket or file system it writes);
Cloud Logging sinks (a bucket, or a log bucket at a location); and what a bucket says about its
data elsewhere: its access logs (requesters' addresses and object keys: S3 server access logging,
GCS usage logs) and S3 inventory reports (every object key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from ._attribution import Subject
from ._buckets import (
    GCS_BUCKET,
    LOGGING,
    NATIVE_S3_BUCKET,
    REPLICATION,
    Bucket,
    Buckets,
    buckets_of,
    flat,
    kind_of,
    log_destinations,
)
from ._values import UNKNOWN, Unknown, dig, each, items, present, text

INLINE_REPLICATION = ("replicationConfiguration", "replicationConfigurations")
TRANSFER_JOB = "gcp:storage/transferJob:TransferJob"
MULTI_REGION_ACCESS_POINTS = frozenset({
    "aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint", "aws-native:s3:MultiRegionAccessPoint",
})
DATASYNC_TASKS = frozenset({"aws:datasync/task:Task", "aws-native:datasync:Task"})
DATASYNC_S3 = frozenset({"aws:datasync/s3Location:S3Location", "aws-native:datasync:LocationS3"})
# DataSync locations outside every AWS region: the data leaves for storage no region setting describes.
DATASYNC_OUTSIDE = {
    **dict.fromkeys(["aws:datasync/nfsLocation:NfsLocation", "aws-native:datasync:LocationNfs"], "an NFS server"),
    **dict.fromkeys(["aws:datasync/locationSmb:LocationSmb", "aws-native:datasync:LocationSmb"], "an SMB server"),
    **dict.fromkeys(["aws:datasync/locationHdfs:LocationHdfs", "aws-native:datasync:LocationHdfs"], "an HDFS cluster"),
    **dict.fromkeys(["aws:datasync/locationObjectStorage:LocationObjectStorage",
                     "aws-native:datasync:LocationObjectStorage"], "a self-managed object store"),
    **dict.fromkeys(["aws:datasync/locationAzureBlob:LocationAzureBlob", "aws-native:datasync:LocationAzureBlob"],
                    "Azure Blob Storage"),
}
_LOCATION_PREFIXES = ("aws:datasync/", "aws-native:datasync:")
LOG_SINKS = frozenset(f"gcp:logging/{scope}Sink:{scope[0].upper()}{scope[1:]}Sink"
                      for scope in ("project", "folder", "organization", "billingAccount"))
_STORAGE_SINK = "storage.googleapis.com/"
_LOG_BUCKET = re.compile(r"^logging\.googleapis\.com/.*?/locations/([^/]+)/buckets/", re.IGNORECASE)
INVENTORY = "aws:s3/inventory:Inventory"
_MOVERS = frozenset({TRANSFER_JOB, *MULTI_REGION_ACCESS_POINTS, *DATASYNC_TASKS, *LOG_SINKS, INVENTORY})


@dataclass(frozen=True)
class Destination:
    """Where one copy goes: `bucket` (a name or ARN; UNKNOWN while unknown, then resolved through
    `via`'s property dependencies on `key`); or `outside`, a place no cloud region describes; or
    `location`, where it sits; or `unresolved`, why the destination cannot be found (`certain` when
    it is known but not in the stack)."""

    via: Subject
    key: str
    bucket: Any = None
    location: str = ""  # a GCP location the destination sits at (a log bucket's)
    outside: str = ""
    unresolved: str = ""
    certain: bool = False


@dataclass(frozen=True)
class Copy:
    subject: Subject  # the resource that moves the data: findings go on it
    what: str  # "replicates to", "transfers to", ...
    destination: Destination
    sources: tuple[Bucket, ...] = ()  # the buckets the data comes from: never their own destination


def copies(resources: Sequence[Any]) -> Iterable[Copy]:
    """Every copy the stack declares, as declared and as the outputs report it."""
    buckets = buckets_of(resources)
    for config in buckets.configs:
        if kind_of(config.type) == REPLICATION:
            sources = tuple(buckets.linked(config, "bucket", config.get("bucket")))
            yield from _replication(config, "rules", config.get("rules"), sources)
    for bucket in buckets.all + buckets.native:
        if bucket.subject.type != GCS_BUCKET:
            for setting in _inline(bucket):
                yield from _replication(bucket.subject, INLINE_REPLICATION[0], each(setting, "rules"), (bucket,))
        yield from _access_logs(bucket)
    movers = [resource for resource in resources if resource.resource_type in _MOVERS]
    if not movers:
        return
    stack = {resource.urn: resource for resource in resources}
    locations = _Locations(resources, stack)
    for resource in movers:
        subject = Subject(resource, stack)
        if subject.type == TRANSFER_JOB:
            yield from _transfer_job(subject)
        elif subject.type in MULTI_REGION_ACCESS_POINTS:
            yield from _access_point(subject)
        elif subject.type in LOG_SINKS:
            yield from _log_sink(subject)
        elif subject.type == INVENTORY:
            yield from _inventory(subject, buckets)
        else:
            yield from _datasync_task(subject, locations)


def _inline(bucket: Bucket) -> list[Any]:
    """Inline replication settings, as declared and as the outputs report them: both move data."""
    subject = bucket.subject
    found = [subject.declared(key) for key in INLINE_REPLICATION] + [subject.get(key) for key in INLINE_REPLICATION]
    return [setting for setting in flat(found) if setting]


def _replication(subject: Subject, key: str, rules: Any, sources: tuple[Bucket, ...]) -> Iterable[Copy]:
    listed = items(rules)
    if isinstance(listed, Unknown):
        yield Copy(subject, "replicates to", Destination(subject, key, unresolved="its rules are not known yet"), sources)
        return
    for rule in listed:
        found = each(rule, "destination", "destinations")
        for bucket in [dig(target, "bucket") for target in found] if isinstance(found, list) else [UNKNOWN]:
            yield Copy(subject, "replicates to", Destination(subject, key, bucket=bucket), sources)


def _access_logs(bucket: Bucket) -> Iterable[Copy]:
    """Where the bucket's access logs go: its logging controls' `targetBucket`, its inline settings."""
    what = "sends its access logs to"
    for control in bucket.attached(LOGGING):
        target = control.get("targetBucket")
        if present(target):
            yield Copy(control, what, Destination(control, "targetBucket", bucket=target), (bucket,))
    native = bucket.subject.type == NATIVE_S3_BUCKET
    targets = [dig(bucket.subject.get("loggingConfiguration"), "destinationBucketName")] if native else \
        log_destinations(bucket)
    for target in targets:
        if present(target):  # the provider reports logging off as "" or no setting
            yield Copy(bucket.subject, what, Destination(bucket.subject, "logging", bucket=target), (bucket,))


def _inventory(subject: Subject, buckets: Buckets) -> Iterable[Copy]:
    target = dig(subject.get("destination"), "bucket", "bucketArn")
    if present(target):
        sources = tuple(buckets.linked(subject, "bucket", subject.get("bucket")))
        destination = Destination(subject, "destination", bucket=target)
        yield Copy(subject, "sends the inventory of its objects to", destination, sources)


def _transfer_job(subject: Subject) -> Iterable[Copy]:
    for key in ("transferSpec", "replicationSpec"):
        for spec in _objects(subject.get(key)):
            if spec is UNKNOWN:
                yield Copy(subject, "transfers to", Destination(subject, key, unresolved=f"its `{key}` is not known yet"))
                continue
            for sink in _objects(dig(spec, "gcsDataSink")):
                yield Copy(subject, "transfers to", Destination(subject, key, bucket=dig(sink, "bucketName")))
            if _objects(dig(spec, "posixDataSink")):
                yield Copy(subject, "transfers to", Destination(subject, key, outside="a POSIX file system (transfer agents)"))


def _access_point(subject: Subject) -> Iterable[Copy]:
    """A Multi-Region Access Point serves and writes each bucket it lists (classic: `details.regions`)."""
    details = subject.get("details")
    key, settings = ("details", _objects(details)) if details is not None else ("regions", [subject.get("regions")])
    for setting in settings:
        regions = items(setting) if key == "regions" else each(setting, "regions")
        if isinstance(regions, Unknown) or setting is UNKNOWN:
            yield Copy(subject, "routes requests to", Destination(subject, key, unresolved="its regions are not known yet"))
            continue
        for region in regions:
            yield Copy(subject, "routes requests to", Destination(subject, key, bucket=dig(region, "bucket")))


def _log_sink(subject: Subject) -> Iterable[Copy]:
    """A log sink writes to a bucket (`storage.googleapis.com/<bucket>`) or a log bucket at a location;
    BigQuery datasets, Pub/Sub topics and other destinations are not placed here."""
    key = "destination"
    destination = text(subject.get(key))
    if destination is None:
        return
    if isinstance(destination, str):
        destination = destination.strip()
        at = _LOG_BUCKET.match(destination)
        if destination.lower().startswith(_STORAGE_SINK):
            yield Copy(subject, "routes logs to", Destination(subject, key, bucket=destination[len(_STORAGE_SINK):]))
        elif at:
            yield Copy(subject, "routes logs to", Destination(subject, key, location=at.group(1)))
        else:
            yield Copy(subject, "routes logs to", Destination(subject, key, unresolved=f"its destination {destination!r} "
                                                                                   "is neither a bucket nor a log bucket"))
        return
    yield Copy(subject, "routes logs to", Destination(subject, key, unresolved="its destination is not known yet"))


def _datasync_task(subject: Subject, locations: "_Locations") -> Iterable[Copy]:
    key = "destinationLocationArn"
    arn = text(subject.get(key))
    location = locations.find(subject, key, arn)
    if location is None:
        declared = isinstance(arn, str)
        reason = f"its destination, DataSync location {arn!r}, is not declared in this stack" if declared else \
            "its destination location is not known yet"
        yield Copy(subject, "transfers to", Destination(subject, key, unresolved=reason, certain=declared))
        return
    outside = DATASYNC_OUTSIDE.get(location.type)
    if outside:
        yield Copy(subject, "transfers to", Destination(location, "", outside=f"{outside} (DataSync location '{location.name}')"))
    elif location.type in DATASYNC_S3:
        yield Copy(subject, "transfers to", Destination(location, "s3BucketArn", bucket=location.get("s3BucketArn")))
    # Other locations (EFS, FSx) are regional resources: data-residency-region judges their region.


class _Locations:
    """The stack's DataSync locations by ARN."""

    def __init__(self, resources: Sequence[Any], stack: dict[str, Any]) -> None:
        self.by_urn: dict[str, Subject] = {}
        self.by_arn: dict[str, Subject] = {}
        for resource in resources:
            if resource.resource_type.startswith(_LOCATION_PREFIXES) and resource.resource_type not in _MOVERS:
                location = Subject(resource, stack)
                self.by_urn[location.urn] = location
                for key in ("arn", "locationArn", "id"):
                    found = text(location.get(key))
                    if isinstance(found, str):
                        self.by_arn[found] = location

    def find(self, subject: Subject, key: str, arn: Any) -> Optional[Subject]:
        """The location `arn` names; while it is unknown, the one `subject.<key>` depends on."""
        if isinstance(arn, str):
            return self.by_arn.get(arn.strip())
        found = [self.by_urn[urn] for urn in subject.deps(key) if urn in self.by_urn]
        return found[0] if found else None


def _objects(value: Any) -> list[Any]:
    """An object setting's objects (one, or a list of them); [UNKNOWN] when it is unknown."""
    found = items(value)
    return [UNKNOWN] if isinstance(found, Unknown) else [item for item in found if item is UNKNOWN or isinstance(item, dict)]


def destination_buckets(buckets: Buckets, copy: Copy) -> Optional[list[Bucket]]:
    """The stack's buckets a copy's `bucket` destination is; None when it names no bucket of the stack."""
    destination = copy.destination
    name = text(destination.bucket)
    if isinstance(name, str):
        return buckets.named(name.strip()) or None
    return [bucket for bucket in buckets.dependencies(destination.via, destination.key) if bucket not in copy.sources]
