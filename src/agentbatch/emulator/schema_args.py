"""Deterministic tool arguments built from a tool's JSON schema.

Only required properties are filled: a string becomes ``"<property>-value"`` (or the first
``enum`` value, or the ``const``), an integer 1, a number 1.0, a boolean true, an array [],
an object {} filled recursively from its own ``properties``/``required``, null None. A type
list or ``anyOf``/``oneOf`` uses its first non-null choice; local ``$ref``s are followed.
"""

from typing import Any

_MAX_DEPTH = 8


def arguments_from_schema(schema: object) -> dict[str, Any]:
    """The arguments a cooperative model would send for a tool whose parameters are ``schema``."""
    if not isinstance(schema, dict):
        return {}
    return _object_value(schema, schema, 0)


def _object_value(schema: dict[str, Any], root: dict[str, Any], depth: int) -> dict[str, Any]:
    properties = schema.get("properties")
    required = schema.get("required")
    if not isinstance(properties, dict) or not isinstance(required, list):
        return {}
    return {
        name: _value(properties.get(name), name, root, depth + 1)
        for name in required
        if isinstance(name, str)
    }


def _value(schema: object, name: str, root: dict[str, Any], depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return f"{name}-value"
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        choices = schema.get(combinator)
        if isinstance(choices, list) and choices:
            return _value(_first_non_null(choices), name, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((entry for entry in kind if entry != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    return _value_of_type(kind, schema, name, root, depth)


def _value_of_type(kind: object, schema: dict[str, Any], name: str, root: dict[str, Any], depth: int) -> Any:
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return _object_value(schema, root, depth)
    if kind == "null":
        return None
    return f"{name}-value"


def _first_non_null(choices: list[Any]) -> object:
    for choice in choices:
        if not (isinstance(choice, dict) and choice.get("type") == "null"):
            return choice
    return choices[0]


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``#/...`` references (a few hops at most, so cycles cannot hang us)."""
    for _ in range(_MAX_DEPTH):
        reference = schema.get("$ref")
        if not isinstance(reference, str) or not reference.startswith("#/"):
            return schema
        target: object = root
        for part in reference[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            return schema
        schema = target
    return schema
