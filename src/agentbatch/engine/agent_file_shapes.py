"""The shapes an agent file's entries must have before anything is read from them.

An agent file is JSON from anywhere: a number where a list belongs, or a string where an object does,
must be refused as a client error naming the place (``agents[0].messages[3].tool_calls[0]: must be an
object, not a string``), never fail halfway through reading it. Only the fields the import reads are
checked; any field may be missing or null.
"""

from dataclasses import dataclass
from typing import Any

from agentbatch.domain.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class ListOf:
    item: "Shape"


Shape = type | tuple[type, ...] | ListOf | dict[str, Any]
"""A JSON type (``str``, ``int``, ``dict``, …), one of several, a list of a shape, or an object whose
named fields have shapes of their own."""

_CALL: dict[str, Shape] = {"id": str, "function": {"name": str}, "name": str}
_MESSAGE: dict[str, Shape] = {
    "role": str,
    "content": (str, list),
    "tool_calls": ListOf(_CALL),
    "tool_call_id": str,
    "tool_returns": ListOf({"tool_call_id": str, "status": str}),
    "name": str,
    "approvals": list,
}
AGENT: dict[str, Shape] = {
    "name": str,
    "agent_type": str,
    "system": str,
    "description": str,
    "model": str,
    "metadata": dict,
    "llm_config": dict,
    "tags": ListOf(str),
    "tool_ids": ListOf(str),
    "block_ids": ListOf(str),
    "tool_rules": ListOf(dict),
    "messages": ListOf(_MESSAGE),
}
BLOCK: dict[str, Shape] = {
    "id": str,
    "label": str,
    "value": str,
    "limit": int,
    "description": str,
    "read_only": bool,
    "metadata": dict,
}
TOOL: dict[str, Shape] = {
    "id": str,
    "name": str,
    "tool_type": str,
    "description": str,
    "source_code": str,
    "source_type": str,
    "json_schema": dict,
    "args_json_schema": dict,
    "tags": ListOf(str),
    "return_char_limit": int,
}

_NAMES = {str: "a string", int: "a whole number", bool: "true or false", dict: "an object", list: "a list"}


def check_shape(value: Any, shape: Shape, where: str) -> None:
    """``InvalidRequest`` naming ``where`` (and the place inside it) if ``value`` is not of ``shape``."""
    if value is None:
        return
    if isinstance(shape, ListOf):
        _expect(value, (list,), where)
        for index, item in enumerate(value):
            check_shape(item, shape.item, f"{where}[{index}]")
    elif isinstance(shape, dict):
        _expect(value, (dict,), where)
        for key, inner in shape.items():
            check_shape(value.get(key), inner, f"{where}.{key}")
    else:
        _expect(value, shape if isinstance(shape, tuple) else (shape,), where)


def _expect(value: Any, types: tuple[type, ...], where: str) -> None:
    # JSON's true and false are not whole numbers, though Python's bool is an int
    if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
        return
    wanted = " or ".join(_NAMES.get(kind, kind.__name__) for kind in types)
    raise InvalidRequest(f"{where} must be {wanted}, not {_json_name(value)}")


def _json_name(value: Any) -> str:
    for kind in (bool, int, str, dict, list):
        if isinstance(value, kind):
            return _NAMES[kind]
    return "a number" if isinstance(value, float) else type(value).__name__
