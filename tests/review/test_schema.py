"""`python -m review schema`: the stack-file JSON Schema accepts the examples and rejects bad files."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from review.cli import main
from review.schema import stack_file_schema
from review.stacks import project_root, stack_names


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = stack_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _stack(name: str) -> dict:
    return yaml.safe_load((project_root() / f"Pulumi.{name}.yaml").read_text())


@pytest.mark.parametrize("name", stack_names())
def test_examples_validate(validator: jsonschema.Draft202012Validator, name: str) -> None:
    assert list(validator.iter_errors(_stack(name))) == []


@pytest.mark.parametrize(
    "change",
    [
        {"obsfleet:regime": "hipaa"},
        {"obsfleet:retention": {"metrics": 0}},
        {"obsfleet:edges": [{"name": "Edge EU", "region": "eu-west-1"}]},
        {"obsfleet:slackWebhookUrl": "https://hooks.slack.com/services/plain-text"},
        {"obsfleet:hubStack": "acme/obsfleet/hub"},
    ],
)
def test_bad_hub_files_are_rejected(validator: jsonschema.Draft202012Validator, change: dict) -> None:
    document = _stack("hub")
    document["config"].update(change)
    assert list(validator.iter_errors(document))


def test_secure_values_and_other_namespaces_are_accepted(validator: jsonschema.Draft202012Validator) -> None:
    document = _stack("hub")
    document["config"]["obsfleet:slackWebhookUrl"] = {"secure": "v1:abc"}
    document["config"]["kubernetes:context"] = "anything"
    assert list(validator.iter_errors(document)) == []


def test_cli_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "obsfleet Pulumi stack file"
