"""Memory blocks on their own: read, changed field by field, attached to and detached from agents.

A block belongs to the caller who created it (``owner_id``; for a block created with an agent, the
agent's owner) and is attached to any number of that caller's agents (``agent_blocks``): an edit by one
agent's turn is what the others' next steps see. Detaching removes only the link. A turn's memory edits
are written by ``save_turn_edits``: merged into the block's current value, so an edit made meanwhile
(through the API, or by another agent's turn on a shared block) is kept as well.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.agents import Block
from agentbatch.domain.paging import PageRequest
from agentbatch.store.dialect import dialect_of
from agentbatch.store.paging import fetch_page
from agentbatch.store.tables import agent_blocks, blocks

_CONTEXT = 40


@dataclass(slots=True)
class StoredBlock:
    """A block with the agents it is attached to."""

    block: Block
    created_at: datetime
    updated_at: datetime
    agent_ids: list[str] = field(default_factory=list)


def block_from_row(row: Row[Any]) -> Block:
    columns = row._mapping
    return Block(
        id=columns["id"],
        label=columns["label"],
        value=columns["value"],
        limit=columns["limit"],
        description=columns["description"],
        read_only=columns["read_only"],
        metadata=columns["metadata_json"],
    )


def block_values(block: Block, owner_id: str | None, now: datetime) -> dict[str, Any]:
    return {
        "id": block.id,
        "owner_id": owner_id,
        "label": block.label,
        "value": block.value,
        "limit": block.limit,
        "description": block.description,
        "read_only": block.read_only,
        "metadata_json": block.metadata,
        "created_at": now,
        "updated_at": now,
    }


async def _stored(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[StoredBlock]:
    found = [StoredBlock(block_from_row(row), row.created_at, row.updated_at) for row in rows]
    by_id = {stored.block.id: stored for stored in found}
    if by_id:
        links = await conn.execute(
            select(agent_blocks.c.block_id, agent_blocks.c.agent_id)
            .where(agent_blocks.c.block_id.in_(list(by_id)))
            .order_by(agent_blocks.c.block_id, agent_blocks.c.agent_id)
        )
        for link in links:
            by_id[link.block_id].agent_ids.append(link.agent_id)
    return found


async def insert_block(conn: AsyncConnection, owner_id: str, block: Block, now: datetime) -> None:
    await conn.execute(insert(blocks).values(**block_values(block, owner_id, now)))


async def get_block(conn: AsyncConnection, owner_id: str, block_id: str) -> StoredBlock | None:
    row = (
        await conn.execute(select(blocks).where(blocks.c.id == block_id, blocks.c.owner_id == owner_id))
    ).first()
    return (await _stored(conn, [row]))[0] if row else None


def _of_agent(agent_id: str) -> Any:
    return select(agent_blocks.c.block_id).where(agent_blocks.c.agent_id == agent_id)


async def agent_block(conn: AsyncConnection, agent_id: str, label: str) -> StoredBlock | None:
    query = select(blocks).where(blocks.c.id.in_(_of_agent(agent_id)), blocks.c.label == label)
    row = (await conn.execute(query)).first()
    return (await _stored(conn, [row]))[0] if row else None


async def list_blocks(
    conn: AsyncConnection,
    owner_id: str,
    page: PageRequest,
    *,
    agent_id: str | None = None,
    label: str | None = None,
) -> list[StoredBlock]:
    """Blocks in creation order; an agent's blocks in the order its memory shows them."""
    if agent_id is not None:
        query = (
            select(blocks, agent_blocks.c.position)
            .join(agent_blocks, agent_blocks.c.block_id == blocks.c.id)
            .where(agent_blocks.c.agent_id == agent_id, blocks.c.owner_id == owner_id)
        )
        order_by: tuple[Any, ...] = (agent_blocks.c.position, blocks.c.id)
    else:
        query = select(blocks).where(blocks.c.owner_id == owner_id)
        order_by = (blocks.c.created_at, blocks.c.id)
    if label is not None:
        query = query.where(blocks.c.label == label)
    rows = await fetch_page(conn, query, order_by=order_by, id_column=blocks.c.id, page=page)
    return await _stored(conn, rows)


async def update_block(
    conn: AsyncConnection, block_id: str, values: Mapping[str, Any], now: datetime
) -> None:
    """Change only the given columns (``value``, ``limit``, ``label``, …); the others stay as they are."""
    await conn.execute(update(blocks).where(blocks.c.id == block_id).values(**values, updated_at=now))


async def attach_block(conn: AsyncConnection, block_id: str, agent_id: str, now: datetime) -> None:
    """Link the block to the agent, last in its memory."""
    position = await conn.scalar(
        select(func.coalesce(func.max(agent_blocks.c.position) + 1, 0)).where(
            agent_blocks.c.agent_id == agent_id
        )
    )
    await conn.execute(
        insert(agent_blocks).values(agent_id=agent_id, block_id=block_id, position=int(position or 0))
    )
    await conn.execute(update(blocks).where(blocks.c.id == block_id).values(updated_at=now))


async def link_agent_blocks(conn: AsyncConnection, agent_id: str, block_ids: Sequence[str]) -> None:
    """Link a new agent to its blocks, in this order."""
    if block_ids:
        await conn.execute(
            insert(agent_blocks),
            [
                {"agent_id": agent_id, "block_id": block_id, "position": position}
                for position, block_id in enumerate(block_ids)
            ],
        )


async def detach_block(conn: AsyncConnection, block_id: str, agent_id: str, now: datetime) -> None:
    """Remove only the link; the block stays, with any other agent it is attached to."""
    await conn.execute(
        delete(agent_blocks).where(agent_blocks.c.block_id == block_id, agent_blocks.c.agent_id == agent_id)
    )
    await conn.execute(update(blocks).where(blocks.c.id == block_id).values(updated_at=now))


async def delete_block(conn: AsyncConnection, block_id: str) -> None:
    await conn.execute(delete(agent_blocks).where(agent_blocks.c.block_id == block_id))
    await conn.execute(blocks.delete().where(blocks.c.id == block_id))


async def delete_blocks_only_of(conn: AsyncConnection, agent_id: str) -> None:
    """Before an agent is deleted: delete the blocks no other agent is attached to (a block another
    agent still uses stays; the agent's links go with the agent)."""
    shared = select(agent_blocks.c.block_id).where(agent_blocks.c.agent_id != agent_id)
    only_ours = [
        row.block_id
        for row in await conn.execute(
            select(agent_blocks.c.block_id).where(
                agent_blocks.c.agent_id == agent_id, agent_blocks.c.block_id.not_in(shared)
            )
        )
    ]
    if only_ours:
        await conn.execute(delete(agent_blocks).where(agent_blocks.c.block_id.in_(only_ours)))
        await conn.execute(blocks.delete().where(blocks.c.id.in_(only_ours)))


async def lock_blocks(conn: AsyncConnection, block_ids: set[str]) -> None:
    """Lock block rows in id order (PostgreSQL; SQLite has one writer at a time)."""
    if block_ids and conn.dialect.name == "postgresql":
        await conn.execute(
            select(blocks.c.id)
            .where(blocks.c.id.in_(sorted(block_ids)))
            .order_by(blocks.c.id)
            .with_for_update()
        )


async def save_turn_edits(
    conn: AsyncConnection, changed: Sequence[Block], bases: Mapping[str, str], now: datetime
) -> None:
    """Write a turn's memory edits. Each edit turned ``bases[id]`` into ``block.value``; when the stored
    value is no longer that base (changed through the API meanwhile), the edit is merged into it."""
    if not changed:
        return
    query = select(blocks.c.id, blocks.c.value).where(blocks.c.id.in_([block.id for block in changed]))
    query = dialect_of(conn).lock(query.order_by(blocks.c.id))
    current = {row.id: row.value for row in await conn.execute(query)}
    for block in changed:
        if block.id not in current:
            continue  # deleted meanwhile: nothing left to write into
        stored = current[block.id]
        base = bases.get(block.id, stored)
        value = block.value if stored == base else merge_edit(base, block.value, stored)
        await conn.execute(update(blocks).where(blocks.c.id == block.id).values(value=value, updated_at=now))


def merge_edit(base: str, edited: str, current: str) -> str:
    """Apply the edit ``base → edited`` to ``current``, a value that moved on from ``base``.

    The edit is one hunk (common prefix and suffix aside): the replaced text is found in ``current`` by
    itself or by the text around it. When it cannot be placed, the new text is appended on a line of
    its own, so neither the concurrent change nor the edit is lost."""
    if edited == base:
        return current
    start = 0
    while start < min(len(base), len(edited)) and base[start] == edited[start]:
        start += 1
    end = 0
    while (
        end < min(len(base), len(edited)) - start
        and base[len(base) - 1 - end] == edited[len(edited) - 1 - end]
    ):
        end += 1
    removed, added = base[start : len(base) - end], edited[start : len(edited) - end]
    before, after = base[:start][-_CONTEXT:], base[len(base) - end :][:_CONTEXT]
    if removed and current.count(removed) == 1:
        return current.replace(removed, added, 1)
    if not removed:
        if end == 0 and not after:
            return current + added  # an append
        if start == 0 and not before:
            return added + current  # a prepend
        if before and current.count(before) == 1:
            at = current.index(before) + len(before)
            return current[:at] + added + current[at:]
        if after and current.count(after) == 1:
            at = current.index(after)
            return current[:at] + added + current[at:]
    if not added:
        return current  # a removal of text that is no longer there
    return f"{current}\n{added}" if current else added
