"""What the cloud would answer: provider-computed outputs for resources declared under SDK mocks.

Each resource type that has outputs the program reads (ARNs, names, PEMs, stack-reference
outputs) gets them from a function registered in `COMPUTED` (review/mock_registry.py; TLS
resources in review/mock_tls.py); anything else echoes its inputs, as a provider would for plain
arguments.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, Optional

import pulumi

from review import mock_tls  # noqa: F401  (registers the TLS resources' outputs)
from review.mock_registry import COMPUTED, computes, physical_name

ACCOUNT = "123456789012"
# The AWS provider's own default when neither it nor the resource names a region (under mocks
# there is no environment to read one from; the program's providers always name theirs).
DEFAULT_AWS_REGION = "us-east-1"

def _region(args: pulumi.runtime.MockResourceArgs) -> str:
    # FleetMocks fills in the provider's region when the resource names none (pulumi-aws 7).
    return str(args.inputs["region"])


@computes("aws:s3/bucket:Bucket")
def _s3_bucket(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    bucket = args.inputs.get("bucket") or physical_name(args.name)
    return {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{_region(args)}.amazonaws.com",
    }


@computes("aws:kms/key:Key")
def _kms_key(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    key_id = hashlib.sha256(args.name.encode()).hexdigest()[:32]
    return {"keyId": key_id, "arn": f"arn:aws:kms:{_region(args)}:{ACCOUNT}:key/{key_id}"}


@computes("aws:iam/role:Role", "aws:iam/policy:Policy")
def _iam(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    kind = "role" if args.typ.endswith("Role") else "policy"
    name = args.inputs.get("name") or physical_name(args.name)
    return {"name": name, "arn": f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"}


@computes("gcp:storage/bucket:Bucket")
def _gcs_bucket(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs.get("name") or physical_name(args.name)
    return {"name": name, "url": f"gs://{name}", "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}"}


@computes("gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey")
def _gcp_kms(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    parent = args.inputs.get("keyRing") or f"projects/mock/locations/{args.inputs.get('location', 'global')}"
    kind = "cryptoKeys" if args.typ.endswith("CryptoKey") else "keyRings"
    return {"id": f"{parent}/{kind}/{args.inputs.get('name', args.name)}"}


@computes("gcp:serviceaccount/account:Account")
def _gcp_service_account(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    account = args.inputs.get("accountId", args.name)
    project = args.inputs.get("project", "mock-project")
    email = f"{account}@{project}.iam.gserviceaccount.com"
    return {"email": email, "name": f"projects/{project}/serviceAccounts/{email}", "member": f"serviceAccount:{email}"}


def _with_inputs(args: pulumi.runtime.MockResourceArgs, inputs: dict[str, Any]) -> pulumi.runtime.MockResourceArgs:
    return pulumi.runtime.MockResourceArgs(args.typ, args.name, inputs, args.provider, args.resource_id, args.custom)


class FleetMocks(pulumi.runtime.Mocks):
    """Mocks for one stack's preview; `stack_outputs` answers its StackReferences."""

    def __init__(self, stack_outputs: Mapping[str, tuple[dict[str, Any], frozenset[str]]]):
        self.stack_outputs = stack_outputs
        self._aws_regions: dict[str, str] = {}
        """AWS provider id -> its region."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, self._stack_reference(args.inputs.get("name") or args.name)
        state = dict(args.inputs)
        if args.typ.startswith("aws:") and not state.get("region"):
            # pulumi-aws 7: a resource without its own `region` is in its provider's, and says so.
            state["region"] = self._aws_regions.get(str(args.provider).rsplit("::", 1)[-1], DEFAULT_AWS_REGION)
        compute = COMPUTED.get(args.typ)
        if compute:
            state.update(compute(_with_inputs(args, state)))
        resource_id = str(args.resource_id or state.get("bucket") or state.get("name") or physical_name(args.name))
        if args.typ == "pulumi:providers:aws":
            self._aws_regions[resource_id] = str(state.get("region") or DEFAULT_AWS_REGION)
        return resource_id, state

    def _stack_reference(self, fully_qualified: str) -> dict[str, Any]:
        short = fully_qualified.split("/")[-1]
        if short not in self.stack_outputs:
            # The engine's own answer for a stack that does not exist.
            raise Exception(f"unknown stack '{fully_qualified}': preview it first or check obsfleet:hubStack")
        outputs, secret = self.stack_outputs[short]
        return {"name": fully_qualified, "outputs": outputs, "secretOutputNames": sorted(secret)}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        # The SDK iterates the failures: an empty list, never None.
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "userId": ACCOUNT}, []
        if args.token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
            project = args.args.get("project", "mock-project")
            email = "service-000000000000@gs-project-accounts.iam.gserviceaccount.com"
            return {"emailAddress": email, "member": f"serviceAccount:{email}", "project": project}, []
        if args.token == "gcp:organizations/getProject:getProject":
            return {"number": "000000000000", "projectId": args.args.get("projectId", "mock-project")}, []
        if args.token == "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount":
            email = "project-000000000000@storage-transfer-service.iam.gserviceaccount.com"
            return {"email": email, "member": f"serviceAccount:{email}", "project": args.args.get("project")}, []
        return {}, []
