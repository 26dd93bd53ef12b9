"""Agents with their tags, memory blocks and attached tools."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.agents import Agent, AgentType
from agentbatch.domain.paging import PageRequest
from agentbatch.store.blocks import block_from_row, block_values, delete_blocks_only_of, link_agent_blocks
from agentbatch.store.bound_lists import in_parts
from agentbatch.store.dialect import dialect_of
from agentbatch.store.paging import fetch_page
from agentbatch.store.tables import agent_blocks, agent_tags, agent_tools, agents, blocks
from agentbatch.store.tables import tools as tools_table
from agentbatch.store.tools import tool_from_row


async def insert_agent(conn: AsyncConnection, agent: Agent) -> None:
    await conn.execute(
        insert(agents).values(
            id=agent.id,
            owner_id=agent.owner_id,
            name=agent.name,
            agent_type=agent.agent_type.value,
            system=agent.system,
            description=agent.description,
            model=agent.model,
            llm_config=agent.llm_config,
            embedding=agent.embedding,
            embedding_config=agent.embedding_config,
            tags=agent.tags,
            metadata_json=agent.metadata,
            tool_rules=agent.tool_rules,
            options=agent.options,
            created_at=agent.created_at,
            updated_at=agent.updated_at,
        )
    )
    if agent.tags:
        await conn.execute(
            insert(agent_tags), [{"agent_id": agent.id, "tag": tag} for tag in set(agent.tags)]
        )
    if agent.blocks:
        # A block already stored (shared with an agent imported before this one) is only linked.
        stored = set(
            await conn.scalars(
                select(blocks.c.id).where(blocks.c.id.in_([block.id for block in agent.blocks]))
            )
        )
        new_blocks = [
            block_values(b, agent.owner_id, agent.created_at) for b in agent.blocks if b.id not in stored
        ]
        if new_blocks:
            await conn.execute(insert(blocks), new_blocks)
        await link_agent_blocks(conn, agent.id, [block.id for block in agent.blocks])
    if agent.tools:
        await conn.execute(
            insert(agent_tools),
            [
                {"agent_id": agent.id, "tool_id": tool.id, "position": position}
                for position, tool in enumerate(agent.tools)
            ],
        )


async def get_agent(conn: AsyncConnection, owner_id: str, agent_id: str) -> Agent | None:
    found = await load_agents(conn, owner_id, [agent_id])
    return found.get(agent_id)


async def load_agents(conn: AsyncConnection, owner_id: str, agent_ids: Iterable[str]) -> dict[str, Agent]:
    """The named agents that the owner can see, with blocks and tools, in three queries."""
    ids = list(set(agent_ids))
    if not ids:
        return {}
    rows = (
        await conn.execute(select(agents).where(agents.c.owner_id == owner_id, agents.c.id.in_(ids)))
    ).all()
    return await _with_relations(conn, rows)


async def list_agents(
    conn: AsyncConnection,
    owner_id: str,
    page: PageRequest,
    *,
    name: str | None = None,
    tags: Sequence[str] = (),
    match_all_tags: bool = False,
) -> list[Agent]:
    query = select(agents).where(agents.c.owner_id == owner_id)
    if name is not None:
        query = query.where(agents.c.name == name)
    if tags:
        tagged = (
            select(agent_tags.c.agent_id)
            .where(agent_tags.c.tag.in_(set(tags)))
            .group_by(agent_tags.c.agent_id)
        )
        if match_all_tags:
            tagged = tagged.having(func.count() == len(set(tags)))
        query = query.where(agents.c.id.in_(tagged))
    rows = await fetch_page(
        conn, query, order_by=(agents.c.created_at, agents.c.id), id_column=agents.c.id, page=page
    )
    by_id = await _with_relations(conn, rows)
    return [by_id[row.id] for row in rows]


async def lock_agent(conn: AsyncConnection, owner_id: str, agent_id: str) -> bool:
    """Lock the owner's agent row for a change that spans its items (PostgreSQL; SQLite has one
    writer); False if the owner has no such agent. Agents are locked before items, as commits do."""
    query = select(agents.c.id).where(agents.c.id == agent_id, agents.c.owner_id == owner_id)
    return (await conn.execute(dialect_of(conn).lock(query))).first() is not None


async def delete_agent(conn: AsyncConnection, owner_id: str, agent_id: str) -> bool:
    """Delete the agent, its links and the blocks no other agent uses (a shared block stays)."""
    owned = await conn.scalar(
        select(agents.c.id).where(agents.c.id == agent_id, agents.c.owner_id == owner_id)
    )
    if owned is None:
        return False
    await delete_blocks_only_of(conn, agent_id)
    result = await conn.execute(delete(agents).where(agents.c.id == agent_id, agents.c.owner_id == owner_id))
    return bool(result.rowcount)


async def agent_models(conn: AsyncConnection, owner_id: str, agent_ids: Iterable[str]) -> dict[str, str]:
    """The model handle of each named agent the owner can see (absent: unknown to this owner)."""
    ids = list(set(agent_ids))
    found: dict[str, str] = {}
    for chunk in in_parts(ids):
        rows = await conn.execute(
            select(agents.c.id, agents.c.model, agents.c.llm_config).where(
                agents.c.owner_id == owner_id, agents.c.id.in_(chunk)
            )
        )
        for row in rows:
            found[row.id] = row.model or _handle_from_llm_config(row.llm_config)
    return found


def _handle_from_llm_config(llm_config: dict[str, Any]) -> str:
    return f"{llm_config.get('model_endpoint_type', 'openai')}/{llm_config.get('model', '')}"


async def record_turn_end(
    conn: AsyncConnection, agent_ids_to_reason: dict[str, str], completed_at: datetime
) -> None:
    if not agent_ids_to_reason:
        return
    await conn.execute(
        update(agents)
        .where(agents.c.id == bindparam("a_id"))
        .values(last_stop_reason=bindparam("a_reason"), last_run_completion=completed_at),
        [{"a_id": agent_id, "a_reason": reason} for agent_id, reason in agent_ids_to_reason.items()],
    )


async def _with_relations(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> dict[str, Agent]:
    if not rows:
        return {}
    result = {agent.id: agent for agent in map(_agent_from_row, rows)}
    ids = list(result)
    block_rows = await conn.execute(
        select(blocks, agent_blocks.c.agent_id.label("linked_agent_id"))
        .join(agent_blocks, agent_blocks.c.block_id == blocks.c.id)
        .where(agent_blocks.c.agent_id.in_(ids))
        .order_by(agent_blocks.c.agent_id, agent_blocks.c.position)
    )
    for row in block_rows:
        result[row._mapping["linked_agent_id"]].blocks.append(block_from_row(row))
    # Agents share a handful of tools: read the links, then each distinct tool once.
    links = (
        await conn.execute(
            select(agent_tools.c.agent_id, agent_tools.c.tool_id)
            .where(agent_tools.c.agent_id.in_(ids))
            .order_by(agent_tools.c.agent_id, agent_tools.c.position)
        )
    ).all()
    tool_ids = list({tool_id for _, tool_id in links})
    rows_of_tools = await conn.execute(select(tools_table).where(tools_table.c.id.in_(tool_ids)))
    found_tools = {tool.id: tool for tool in map(tool_from_row, rows_of_tools)}
    for agent_id, tool_id in links:
        result[agent_id].tools.append(found_tools[tool_id])
    return result


def _agent_from_row(row: Row[Any]) -> Agent:
    columns = row._mapping
    return Agent(
        id=columns["id"],
        owner_id=columns["owner_id"],
        name=columns["name"],
        agent_type=AgentType(columns["agent_type"]),
        system=columns["system"],
        description=columns["description"],
        model=columns["model"],
        llm_config=columns["llm_config"],
        embedding=columns["embedding"],
        embedding_config=columns["embedding_config"],
        tags=list(columns["tags"]),
        metadata=columns["metadata_json"],
        tool_rules=columns["tool_rules"],
        options=dict(columns["options"]),
        last_stop_reason=columns["last_stop_reason"],
        last_run_completion=columns["last_run_completion"],
        created_at=columns["created_at"],
        updated_at=columns["updated_at"],
    )


async def update_agent_columns(
    conn: AsyncConnection, agent_id: str, values: dict[str, Any], now: datetime
) -> None:
    """Change only the given columns of the agent row (``metadata`` is ``metadata_json`` here)."""
    await conn.execute(update(agents).where(agents.c.id == agent_id).values(**values, updated_at=now))


async def replace_tags(conn: AsyncConnection, agent_id: str, tags: Sequence[str]) -> None:
    await conn.execute(delete(agent_tags).where(agent_tags.c.agent_id == agent_id))
    if tags:
        await conn.execute(insert(agent_tags), [{"agent_id": agent_id, "tag": tag} for tag in set(tags)])


async def replace_tools(conn: AsyncConnection, agent_id: str, tool_ids: Sequence[str]) -> None:
    """The agent's tools become exactly these, in this order."""
    await conn.execute(delete(agent_tools).where(agent_tools.c.agent_id == agent_id))
    if tool_ids:
        await conn.execute(
            insert(agent_tools),
            [
                {"agent_id": agent_id, "tool_id": tool_id, "position": position}
                for position, tool_id in enumerate(dict.fromkeys(tool_ids))
            ],
        )


async def attach_tool(conn: AsyncConnection, agent_id: str, tool_id: str) -> bool:
    """Add the tool at the end of the agent's tools; False if it was already there."""
    attached = await conn.scalar(
        select(func.count())
        .select_from(agent_tools)
        .where(agent_tools.c.agent_id == agent_id, agent_tools.c.tool_id == tool_id)
    )
    if attached:
        return False
    position = await conn.scalar(
        select(func.coalesce(func.max(agent_tools.c.position) + 1, 0)).where(
            agent_tools.c.agent_id == agent_id
        )
    )
    await conn.execute(
        insert(agent_tools).values(agent_id=agent_id, tool_id=tool_id, position=int(position or 0))
    )
    return True


async def detach_tool(conn: AsyncConnection, agent_id: str, tool_id: str) -> bool:
    result = await conn.execute(
        delete(agent_tools).where(agent_tools.c.agent_id == agent_id, agent_tools.c.tool_id == tool_id)
    )
    return bool(result.rowcount)
