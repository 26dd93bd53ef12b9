"""The arguments the scripted model fills in from a tool's JSON schema: only what is required, one
predictable value per type, so a test can say in advance what the tool will receive."""

from typing import Any

import pytest

from agentbatch.emulator.schema_args import arguments_from_schema


def required(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "string"}, "field-value"),
        ({"type": "integer"}, 1),
        ({"type": "number"}, 1.0),
        ({"type": "boolean"}, True),
        ({"type": "array", "items": {"type": "string"}}, []),
        ({"type": "null"}, None),
        ({"type": "string", "enum": ["celsius", "fahrenheit"]}, "celsius"),
        ({"const": 42}, 42),
        ({"type": ["null", "integer"]}, 1),
        ({"anyOf": [{"type": "null"}, {"type": "boolean"}]}, True),
        ({"oneOf": [{"type": "number"}, {"type": "string"}]}, 1.0),
        ({"description": "no type at all"}, "field-value"),
        ({"type": "mystery"}, "field-value"),
    ],
)
def test_each_required_field_gets_the_documented_value_for_its_type(
    schema: dict[str, Any], value: Any
) -> None:
    assert arguments_from_schema(required(field=schema)) == {"field": value}


def test_optional_fields_are_left_out() -> None:
    schema = {
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["query"],
    }
    assert arguments_from_schema(schema) == {"query": "query-value"}


def test_nested_objects_are_filled_from_their_own_required_fields() -> None:
    schema = required(filter=required(field={"type": "string"}, exact={"type": "boolean"}))
    assert arguments_from_schema(schema) == {"filter": {"field": "field-value", "exact": True}}


def test_local_references_are_followed() -> None:
    schema = {
        "type": "object",
        "properties": {"unit": {"$ref": "#/$defs/Unit"}},
        "required": ["unit"],
        "$defs": {"Unit": {"type": "string", "enum": ["kg", "lb"]}},
    }
    assert arguments_from_schema(schema) == {"unit": "kg"}


def test_a_self_referencing_schema_terminates() -> None:
    node = {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}, "required": ["next"]}
    schema = {**node, "$defs": {"Node": node}}
    arguments = arguments_from_schema(schema)
    depth = 0
    while isinstance(arguments, dict) and "next" in arguments:
        arguments, depth = arguments["next"], depth + 1
    assert 1 < depth < 20


@pytest.mark.parametrize(
    "schema",
    [None, "not a schema", [], {}, {"type": "object"}, {"properties": {"a": {}}, "required": "a"}],
)
def test_a_missing_or_odd_schema_gives_no_arguments(schema: object) -> None:
    assert arguments_from_schema(schema) == {}


def test_a_dangling_reference_falls_back_to_a_string() -> None:
    schema = required(thing={"$ref": "#/$defs/Missing"})
    assert arguments_from_schema(schema) == {"thing": "thing-value"}
