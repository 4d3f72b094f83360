"""`python -m review regions`: the catalog as users and tools see it, through the real CLI."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import botocore
import pytest

from review import regions_cmd
from review.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
GCP_PINNED = ROOT / "tests" / "components" / "data" / "gcp_regions.json"

# Countries read by hand from each region's botocore description (independent of the catalog).
AWS_COUNTRIES = {
    "af-south-1": "ZA", "ap-east-1": "HK", "ap-east-2": "TW", "ap-northeast-1": "JP",
    "ap-northeast-2": "KR", "ap-northeast-3": "JP", "ap-south-1": "IN", "ap-south-2": "IN",
    "ap-southeast-1": "SG", "ap-southeast-2": "AU", "ap-southeast-3": "ID", "ap-southeast-4": "AU",
    "ap-southeast-5": "MY", "ap-southeast-6": "NZ", "ap-southeast-7": "TH", "ca-central-1": "CA",
    "ca-west-1": "CA", "eu-central-1": "DE", "eu-central-2": "CH", "eu-north-1": "SE",
    "eu-south-1": "IT", "eu-south-2": "ES", "eu-west-1": "IE", "eu-west-2": "GB", "eu-west-3": "FR",
    "il-central-1": "IL", "me-central-1": "AE", "me-south-1": "BH", "mx-central-1": "MX",
    "sa-east-1": "BR", "us-east-1": "US", "us-east-2": "US", "us-west-1": "US", "us-west-2": "US",
    "us-gov-east-1": "US", "us-gov-west-1": "US",
}


def review(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "review", "regions", *argv],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )


def rows(*argv: str) -> dict[tuple[str, str], dict]:
    done = review(*argv)
    assert done.returncode == 0, done.stderr
    return {(row["cloud"], row["region"]): row for row in json.loads(done.stdout)}


def test_json_lists_every_botocore_aws_and_govcloud_region_with_its_country() -> None:
    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    botocore_regions = {
        name
        for partition in endpoints["partitions"]
        if partition["partition"] in ("aws", "aws-us-gov")
        for name in partition["regions"]
    }
    assert botocore_regions == set(AWS_COUNTRIES)  # a new botocore region needs a country here
    listed = rows("--cloud", "aws", "--format", "json")
    assert {region: row["country"] for (_, region), row in listed.items()} == AWS_COUNTRIES


def test_json_default_lists_every_gcp_region_and_gcs_location() -> None:
    listed = rows()
    pinned = json.loads(GCP_PINNED.read_text(encoding="utf-8"))
    gcp_regions = {region for (cloud, region), row in listed.items() if cloud == "gcp" and "kind" not in row}
    assert gcp_regions == set(pinned)
    assert listed[("gcp", "europe-west3")] == {
        "cloud": "gcp", "region": "europe-west3", "country": "DE", "regimes": ["gdpr"],
    }
    assert listed[("gcp", "EU")]["kind"] == "multi-region" and listed[("gcp", "EU")]["country"] is None
    assert {cloud for cloud, _ in listed} == {"aws", "gcp"}


def test_regime_filter() -> None:
    gdpr = rows("--regime", "gdpr")
    assert ("aws", "eu-central-1") in gdpr and ("gcp", "EUR4") in gdpr
    for excluded in [("aws", "eu-west-2"), ("aws", "eu-central-2"), ("gcp", "europe-west2"), ("gcp", "US")]:
        assert excluded not in gdpr
    assert all("gdpr" in row["regimes"] for row in gdpr.values())


def test_table_is_aligned_columns() -> None:
    done = review("--cloud", "gcp", "--format", "table")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = lines[0].split()
    assert header == ["CLOUD", "REGION", "KIND", "REGIMES", "DESCRIPTION", "COUNTRIES"]
    starts = [lines[0].index(column) for column in header]
    for line in lines[1:]:
        for start in starts[1:]:
            assert line[start - 2 : start] == "  " and line[start] != " ", line
    london = next(line for line in lines if " europe-west2 " in line)
    assert london.split()[2:4] == ["region", "-"] and london.endswith("GB")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--regime", "hipaa"], "unknown regime 'hipaa' (allowed: ccpa, gdpr, pdpa)"),
        (["--cloud", "azure"], "azure"),
        (["--format", "yaml"], "yaml"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], said: str) -> None:
    done = review(*argv)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and said in done.stderr
    assert "Traceback" not in done.stderr


# run() as the dispatcher calls it, so a failure here points at this module, not the dispatcher.


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    regions_cmd.add_arguments(parser)
    return parser.parse_args(argv)


def test_run_prints_json_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert regions_cmd.run(parse("--cloud", "aws", "--regime", "ccpa")) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {row["region"] for row in printed} == {
        region for region, country in AWS_COUNTRIES.items() if country == "US"
    }


def test_run_unknown_regime_is_bad_input() -> None:
    with pytest.raises(BadInput, match=r"^unknown regime 'x' \(allowed: ccpa, gdpr, pdpa\)$"):
        regions_cmd.run(parse("--regime", "x"))
