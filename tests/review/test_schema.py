"""`python -m review schema`: the stack-file JSON Schema accepts the fixture stacks and rejects bad files."""

from __future__ import annotations

import json
from typing import Any, get_args

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from components.regions import Cloud, Regime
from components.settings import NAMESPACE, SECRETS, EdgeSettings, HubSettings, Role, Tier
from review.cli import main
from review.schema import config_table, role_schemas, stack_file_schema
from review.stacks import project_root
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
    role = role_schemas(schema)[Role(model.model_fields["role"].annotation.__args__[0])]
    declared = {k.removeprefix(f"{NAMESPACE}:") for k in _schema_paths(role, schema["$defs"])}
    secrets = [k for k, (where, _) in SECRETS.items() if where in ("both", role["title"].split()[1])]
    assert declared == _model_paths(model) | set(secrets) | {f"{k}.secure" for k in secrets}
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


# --- what an editor needs -------------------------------------------------------------------------

# Draft 2020-12's keywords (core, applicator, validation, meta-data, format, unevaluated, content).
STANDARD_KEYWORDS = set("""
$schema $id $ref $defs $anchor $dynamicRef $dynamicAnchor $vocabulary $comment
allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties patternProperties
additionalProperties propertyNames unevaluatedItems unevaluatedProperties
type const enum multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength pattern
maxItems minItems uniqueItems maxContains minContains maxProperties minProperties required dependentRequired
title description default deprecated readOnly writeOnly examples format contentEncoding contentMediaType
contentSchema
""".split())


def _schema_nodes(node: Any) -> list[dict]:
    """Every subschema (skipping the names under properties/$defs and the values of enum/const/default)."""
    found: list[dict] = []
    if isinstance(node, dict):
        found.append(node)
        for key, value in node.items():
            if key in ("properties", "patternProperties", "$defs"):
                for child in value.values():
                    found += _schema_nodes(child)
            elif key in ("items", "not", "if", "then", "else", "additionalProperties"):
                found += _schema_nodes(value)
            elif key in ("allOf", "anyOf", "oneOf", "prefixItems"):
                for child in value:
                    found += _schema_nodes(child)
    return found


def test_schema_is_valid_against_its_metaschema_and_uses_standard_keywords_only() -> None:
    schema = stack_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    used = {key for node in _schema_nodes(schema) for key in node}
    assert used <= STANDARD_KEYWORDS, used - STANDARD_KEYWORDS


def test_every_property_has_a_description() -> None:
    schema = stack_file_schema()
    for branch in schema["properties"]["config"]["allOf"]:
        del branch["if"]  # a condition on the role, not a declaration
    missing = [
        key
        for node in _schema_nodes(schema)
        for key, child in node.get("properties", {}).items()
        if not str(child.get("description", "")).strip()
    ]
    assert missing == []


def test_readmes_configuration_table_is_the_schemas_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    table = config_table(stack_file_schema())
    assert "\n" + "\n".join(table) + "\n" in (project_root() / "README.md").read_text()
    assert main(["schema", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.splitlines() == table
    described = {line.split("`")[1] for line in table[2:]}
    assert described == {k.removeprefix(f"{NAMESPACE}:") for r in role_schemas(stack_file_schema()).values()
                         for k in r["properties"]}


def _errors(validator: jsonschema.Draft202012Validator, name: str, change: dict) -> list[jsonschema.ValidationError]:
    document = _stack(name)
    document["config"].update(change)
    return list(validator.iter_errors(document))


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("edge-eu", {"obsfleet:seriesEstimate": "30000"}),
        ("edge-eu", {"obsfleet:bufferHours": "4.5", "obsfleet:scrapeIntervalSeconds": "15", "obsfleet:hubRttMs": "80"}),
        ("edge-eu", {"obsfleet:bufferHours": 72}),
    ],
)
def test_numbers_in_the_engines_string_form_are_accepted(
    validator: jsonschema.Draft202012Validator, name: str, change: dict
) -> None:
    assert _errors(validator, name, change) == []


@pytest.mark.parametrize(
    ("name", "change", "key"),
    [
        ("edge-eu", {"obsfleet:bufferHours": 0}, "obsfleet:bufferHours"),
        ("edge-eu", {"obsfleet:bufferHours": 500}, "obsfleet:bufferHours"),
        ("edge-eu", {"obsfleet:seriesEstimate": "30k"}, "obsfleet:seriesEstimate"),
        ("edge-eu", {"obsfleet:scrapeIntervalSeconds": 4}, "obsfleet:scrapeIntervalSeconds"),
        ("hub", {"obsfleet:regime": "hipaa"}, "obsfleet:regime"),
        ("edge-eu", {"obsfleet:kubeconfig": "apiVersion: v1"}, "obsfleet:kubeconfig"),
        ("hub", {"obsfleet:grafanaAdminPassword": "hunter2"}, "obsfleet:grafanaAdminPassword"),
    ],
)
def test_a_bad_value_is_reported_at_its_key(
    validator: jsonschema.Draft202012Validator, name: str, change: dict, key: str
) -> None:
    errors = _errors(validator, name, change)
    assert errors and {tuple(e.absolute_path)[:2] for e in errors} == {("config", key)}


@pytest.mark.parametrize(("name", "key"), [("hub", "obsfleet:hubStack"), ("edge-eu", "obsfleet:edges"),
                                           ("edge-eu", "obsfleet:retention")])
def test_a_key_of_the_other_role_is_named(validator: jsonschema.Draft202012Validator, name: str, key: str) -> None:
    errors = _errors(validator, name, {key: {"metrics": 1} if key != "obsfleet:hubStack" else "acme/obsfleet/hub"})
    assert len(errors) == 1 and errors[0].validator == "additionalProperties" and repr(key) in errors[0].message


def test_a_missing_role_is_named(validator: jsonschema.Draft202012Validator) -> None:
    document = _stack("hub")
    del document["config"]["obsfleet:role"]
    assert [e.message for e in validator.iter_errors(document)] == ["'obsfleet:role' is a required property"]


@pytest.mark.parametrize("name", ["hub", "edge-eu"])
def test_a_stack_without_a_target_cluster_is_flagged(validator: jsonschema.Draft202012Validator, name: str) -> None:
    document = _stack(name)
    del document["config"]["obsfleet:kubernetes"]
    assert [e.validator for e in validator.iter_errors(document)] == ["anyOf"]
    document["config"]["obsfleet:kubernetes"] = {"namespace": "obs"}
    assert [e.validator for e in validator.iter_errors(document)] == ["anyOf"]
    document["config"]["obsfleet:kubeconfig"] = {"secure": "v1:abc"}
    assert list(validator.iter_errors(document)) == []


def _nested_keys(annotation: Any) -> set[str]:
    """The keys of the models a field holds (through Optional, list and Annotated), at every depth."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {key for name, field in annotation.model_fields.items()
                for key in {field.alias or name} | _nested_keys(field.annotation)}
    return {key for arg in get_args(annotation) for key in _nested_keys(arg)}


@pytest.mark.parametrize("model", [HubSettings, EdgeSettings])
def test_configuration_table_names_every_nested_key(model: type[BaseModel]) -> None:
    undocumented = {
        f"{name}.{key}"
        for name, field in model.model_fields.items()
        for key in _nested_keys(field.annotation)
        if f"`{key}`" not in (field.description or "")
    }
    assert undocumented == set()
