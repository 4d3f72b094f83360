"""`python -m review schema`: the stack-file JSON Schema accepts the fixture stacks and rejects bad files."""

from __future__ import annotations

import json
from typing import Any, get_args

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from components.regions import Cloud, Regime
from components.settings import NAMESPACE, EdgeSettings, HubSettings, Tier
from review.cli import main
from review.schema import stack_file_schema
from tests import fixture_fleet


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = stack_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _stack(name: str) -> dict:
    return yaml.safe_load((fixture_fleet.STACKS_DIR / f"Pulumi.{name}.yaml").read_text())


@pytest.mark.parametrize("name", fixture_fleet.names())
def test_fixture_stacks_validate(validator: jsonschema.Draft202012Validator, name: str) -> None:
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


def _model_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key path the settings model accepts, nested models and list items included."""
    paths: set[str] = set()
    for name, info in model.model_fields.items():
        path = prefix + (info.alias or name)
        paths.add(path)
        for inner in _models_in(info.annotation):
            paths |= _model_paths(inner, path + ".")
    return paths


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _schema_paths(node: dict, defs: dict, prefix: str = "") -> set[str]:
    """Every key path a schema node declares, through $ref, anyOf and array items."""
    if "$ref" in node:
        return _schema_paths(defs[node["$ref"].rsplit("/", 1)[-1]], defs, prefix)
    paths: set[str] = set()
    for branch in node.get("anyOf", []) + ([node["items"]] if "items" in node else []):
        paths |= _schema_paths(branch, defs, prefix)
    for key, child in node.get("properties", {}).items():
        paths.add(prefix + key)
        paths |= _schema_paths(child, defs, prefix + key + ".")
    return paths


@pytest.mark.parametrize("model", [HubSettings, EdgeSettings])
def test_schema_declares_exactly_the_modelled_keys(model: type[BaseModel]) -> None:
    schema = stack_file_schema()
    (role,) = [r for r in schema["properties"]["config"]["oneOf"] if r["title"] == model.__name__]
    declared = {k.removeprefix(f"{NAMESPACE}:") for k in _schema_paths(role, schema["$defs"])}
    assert declared == _model_paths(model)
    assert {"edges.name", "alerting.receivers.secret", "scale.tier"} <= _model_paths(HubSettings)  # the walk nests


def test_schema_enums_are_the_settings_enums() -> None:
    defs = stack_file_schema()["$defs"]
    for enum in (Cloud, Regime, Tier):
        assert sorted(defs[enum.__name__]["enum"]) == sorted(m.value for m in enum)


def test_text_format_lists_every_key_path_with_its_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--format", "text"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "# hub stacks" and "# edge stacks" in lines
    assert "obsfleet:edges[].name  string  required" in lines
    assert "obsfleet:regime  one of gdpr|ccpa|pdpa  required" in lines
    assert "obsfleet:queue.maxShards  integer" in lines
