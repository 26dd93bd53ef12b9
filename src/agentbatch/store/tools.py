"""Tools: the built-in base tools (owner NULL, shared) and each owner's custom tools."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.agents import Tool, ToolType
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.paging import PageRequest
from agentbatch.store.paging import fetch_page
from agentbatch.store.tables import tools as tools_table


def tool_from_row(row: Row[Any]) -> Tool:
    columns = row._mapping
    return Tool(
        id=columns["id"],
        name=columns["name"],
        tool_type=ToolType(columns["tool_type"]),
        json_schema=columns["json_schema"],
        description=columns["description"],
        source_code=columns["source_code"],
        source_type=columns["source_type"],
        tags=list(columns["tags"]),
        return_char_limit=columns["return_char_limit"],
        owner_id=columns["owner_id"],
        created_at=columns["created_at"],
        updated_at=columns["updated_at"],
        metadata=columns["metadata_json"],
    )


def _values(tool: Tool, now: datetime) -> dict[str, Any]:
    return {
        "id": tool.id,
        "owner_id": tool.owner_id,
        "name": tool.name,
        "description": tool.description,
        "tool_type": tool.tool_type.value,
        "json_schema": tool.json_schema,
        "source_code": tool.source_code,
        "source_type": tool.source_type,
        "tags": tool.tags,
        "return_char_limit": tool.return_char_limit,
        "created_at": now,
        "updated_at": now,
        "metadata_json": tool.metadata,
    }


async def sync_builtin_tools(conn: AsyncConnection, builtins: Sequence[Tool], now: datetime) -> None:
    """Make the shared base-tool rows match the runtime's definitions (insert or refresh by name)."""
    existing = {
        row.name: row.id
        for row in await conn.execute(
            select(tools_table.c.name, tools_table.c.id).where(tools_table.c.owner_id.is_(None))
        )
    }
    for tool in builtins:
        values = _values(tool, now)
        if tool.name in existing:
            values.pop("id")
            values.pop("created_at")
            await conn.execute(
                update(tools_table).where(tools_table.c.id == existing[tool.name]).values(values)
            )
        else:
            values["id"] = new_id(IdPrefix.TOOL)
            await conn.execute(insert(tools_table).values(values))


async def insert_tool(conn: AsyncConnection, tool: Tool, now: datetime) -> None:
    await conn.execute(insert(tools_table).values(_values(tool, now)))


async def tools_by_name(conn: AsyncConnection, owner_id: str, names: Iterable[str]) -> dict[str, Tool]:
    """Tools visible to the owner by name; the owner's own tool wins over a built-in of that name."""
    wanted = list(set(names))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(tools_table).where(
            tools_table.c.name.in_(wanted),
            or_(tools_table.c.owner_id == owner_id, tools_table.c.owner_id.is_(None)),
        )
    )
    found: dict[str, Tool] = {}
    for row in rows:
        if row.name not in found or row.owner_id is not None:
            found[row.name] = tool_from_row(row)
    return found


async def tools_by_id(conn: AsyncConnection, owner_id: str, ids: Iterable[str]) -> dict[str, Tool]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(tools_table).where(
            tools_table.c.id.in_(wanted),
            or_(tools_table.c.owner_id == owner_id, tools_table.c.owner_id.is_(None)),
        )
    )
    return {row.id: tool_from_row(row) for row in rows}


async def list_tools(
    conn: AsyncConnection, owner_id: str, page: PageRequest, *, name: str | None = None
) -> list[Tool]:
    query = select(tools_table).where(
        or_(tools_table.c.owner_id == owner_id, tools_table.c.owner_id.is_(None))
    )
    if name is not None:
        query = query.where(tools_table.c.name == name)
    rows = await fetch_page(
        conn,
        query,
        order_by=(tools_table.c.created_at, tools_table.c.id),
        id_column=tools_table.c.id,
        page=page,
    )
    return [tool_from_row(row) for row in rows]


async def delete_tool(conn: AsyncConnection, owner_id: str, tool_id: str) -> bool:
    result = await conn.execute(
        delete(tools_table).where(tools_table.c.id == tool_id, tools_table.c.owner_id == owner_id)
    )
    return bool(result.rowcount)


async def replace_tool(conn: AsyncConnection, tool: Tool, now: datetime) -> None:
    """Write every field of an existing custom tool (its id and creation time stay)."""
    values = _values(tool, now)
    for kept in ("id", "owner_id", "created_at"):
        values.pop(kept)
    await conn.execute(update(tools_table).where(tools_table.c.id == tool.id).values(values))
