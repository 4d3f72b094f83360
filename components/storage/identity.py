"""Workload identity: how a Kubernetes ServiceAccount acts as a cloud identity without a key.

On EKS the account assumes an IAM role through the cluster's OIDC provider (IRSA); on GKE it
impersonates a Google service account (Workload Identity). Either way the pod holds no secret:
the ServiceAccount carries an annotation naming the identity.
"""

from __future__ import annotations

import hashlib
import json
import re

from components.regions import Cloud
from components.settings import OidcProvider

SA_ANNOTATION = {
    Cloud.AWS: "eks.amazonaws.com/role-arn",
    Cloud.GCP: "iam.gke.io/gcp-service-account",
}


def irsa_trust(oidc: OidcProvider, namespace: str, service_account: str) -> str:
    """IRSA trust policy (JSON): only `namespace/service_account` of the cluster behind `oidc` may
    assume the role, with tokens issued for STS."""
    issuer = oidc.url.removeprefix("https://").rstrip("/")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc.arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
    )


def gcp_account_id(name: str) -> str:
    """A Google service account id (6-30 chars of [a-z0-9-], starting with a letter) for `name`."""
    base = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    if not base[:1].isalpha():
        base = f"sa-{base}"
    if len(base) > 30:
        base = f"{base[:23].rstrip('-')}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
    return base if len(base) >= 6 else f"{base}-store"
