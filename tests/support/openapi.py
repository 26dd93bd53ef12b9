"""Checking a response's JSON against the Letta 1.7.0 OpenAPI schema of its operation."""

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "reference" / "letta-openapi-sdk-1.7.0.json"


@functools.cache
def _spec() -> dict[str, Any]:
    path = SPEC_PATH if SPEC_PATH.exists() else Path("/work/shared/reference/letta-openapi-sdk-1.7.0.json")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def response_schema(method: str, path: str, status: str = "200") -> dict[str, Any]:
    operation = _spec()["paths"][path][method.lower()]
    schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
    return schema


def assert_matches_spec(body: Any, method: str, path: str) -> None:
    """Fail with the first violation if ``body`` does not satisfy the operation's response schema
    (fields the spec does not declare are allowed unless the schema forbids them)."""
    root = {**response_schema(method, path), "components": _spec()["components"]}
    validator = jsonschema.Draft202012Validator(root)
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(part) for part in first.absolute_path)
        raise AssertionError(f"{method} {path}: at {where or '<root>'}: {first.message[:500]}")


def declared_fields(schema_name: str) -> set[str]:
    return set(_spec()["components"]["schemas"][schema_name]["properties"])
