"""Changing custom tools: ``PATCH /v1/tools/{id}`` and the upsert by name (``PUT /v1/tools/``).

A tool's name and JSON schema come from its source: a new source means a new schema (unless one is
given with it). Agents that have the tool see the change from their next turn.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agentbatch.domain.agents import Tool
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.runtime.tools.tool_schema import ToolSourceError, schema_from_source, tool_name
from agentbatch.store import tools as tool_store
from agentbatch.store.database import Connection, Database


@dataclass(slots=True)
class ToolPatch:
    """Letta's ``ToolUpdate``: only the fields named in ``given`` change."""

    given: frozenset[str]
    source_code: str | None = None
    source_type: str | None = None
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    description: str | None = None
    tags: list[str] | None = None
    return_char_limit: int | None = None
    metadata: dict[str, Any] | None = None


def derive_schema(tool: Tool) -> None:
    """Fill the tool's name, schema and description from its source; ``InvalidRequest`` if they clash."""
    assert tool.source_code is not None
    try:
        if not tool.json_schema:
            tool.json_schema = schema_from_source(tool.source_code)
            if tool.args_schema is not None:
                tool.json_schema["parameters"] = tool.args_schema
        source_name = tool_name(tool.source_code)
    except ToolSourceError as error:
        raise InvalidRequest(str(error)) from error
    tool.name = str(tool.json_schema.get("name") or source_name)
    if tool.name != source_name:
        raise InvalidRequest(
            f"json_schema names the tool {tool.name!r} but the source defines {source_name!r}"
        )
    tool.description = tool.description or tool.json_schema.get("description")


class ToolChanges:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def update(self, owner_id: str, tool_id: str, patch: ToolPatch) -> Tool:
        async with self._db.write() as conn:
            found = (await tool_store.tools_by_id(conn, owner_id, [tool_id])).get(tool_id)
            if found is None:
                raise NotFound(f"Tool {tool_id} not found")
            if found.owner_id is None:
                raise InvalidRequest(f"{found.name!r} is a built-in tool; it cannot be changed")
            tool = _patched(found, patch)
            await _check_name_free(conn, owner_id, tool)
            await tool_store.replace_tool(conn, tool, _now(tool))
        return tool

    async def upsert(self, owner_id: str, tool: Tool) -> Tool:
        """Create the tool, or replace the caller's tool of the same name (its id stays)."""
        derive_schema(tool)
        now = datetime.now(UTC)
        async with self._db.write() as conn:
            existing = (await tool_store.tools_by_name(conn, owner_id, [tool.name])).get(tool.name)
            if existing is not None and existing.owner_id is None:
                raise InvalidRequest(f"{tool.name!r} is the name of a built-in tool; choose another name")
            if existing is None:
                tool.id, tool.owner_id, tool.created_at, tool.updated_at = (
                    new_id(IdPrefix.TOOL),
                    owner_id,
                    now,
                    now,
                )
                await tool_store.insert_tool(conn, tool, now)
            else:
                tool.id, tool.owner_id, tool.created_at, tool.updated_at = (
                    existing.id,
                    owner_id,
                    existing.created_at,
                    now,
                )
                if tool.metadata is None:
                    tool.metadata = existing.metadata
                await tool_store.replace_tool(conn, tool, now)
        return tool


def _patched(found: Tool, patch: ToolPatch) -> Tool:
    tool = Tool(**{name: getattr(found, name) for name in Tool.__slots__})
    for name in ("source_type", "tags", "return_char_limit"):
        if name in patch.given and getattr(patch, name) is not None:
            setattr(tool, name, getattr(patch, name))
    if "description" in patch.given:
        tool.description = patch.description
    if "metadata_" in patch.given:
        tool.metadata = patch.metadata
    reshaped = {"source_code", "json_schema", "args_json_schema"} & patch.given
    if reshaped:
        tool.source_code = patch.source_code or found.source_code
        tool.json_schema = patch.json_schema or {}
        tool.args_schema = patch.args_json_schema
        if not patch.json_schema and patch.args_json_schema is None and "source_code" not in patch.given:
            tool.args_schema = found.json_schema.get("parameters")
        if "description" not in patch.given:
            tool.description = None  # read again from the new source or schema
        derive_schema(tool)
    elif "description" in patch.given:
        tool.json_schema = {**tool.json_schema, "description": patch.description or ""}
    tool.updated_at = datetime.now(UTC)
    return tool


async def _check_name_free(conn: Connection, owner_id: str, tool: Tool) -> None:
    clash = (await tool_store.tools_by_name(conn, owner_id, [tool.name])).get(tool.name)
    if clash is not None and clash.id != tool.id:
        owner = "built-in tool" if clash.owner_id is None else f"tool ({clash.id})"
        raise InvalidRequest(f"the new source names the tool {tool.name!r}, already the name of a {owner}")


def _now(tool: Tool) -> datetime:
    return tool.updated_at or datetime.now(UTC)
