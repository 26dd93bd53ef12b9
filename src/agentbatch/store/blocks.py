"""Memory blocks on their own: read, changed field by field, attached to and detached from agents.

A block belongs to at most one agent (``agent_id``; NULL once detached or when created alone) and to
the caller who created it (``owner_id``; blocks written before migration 0007 are owned through their
agent). A turn's memory edits are written by ``save_turn_edits``: merged into the block's current value,
so an edit made through the API while the turn ran is kept as well.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.agents import Block
from agentbatch.domain.paging import PageRequest
from agentbatch.store.dialect import dialect_of
from agentbatch.store.pagination import fetch_page
from agentbatch.store.tables import agents, blocks

_CONTEXT = 40


@dataclass(slots=True)
class StoredBlock:
    """A block with where it belongs."""

    block: Block
    agent_id: str | None
    created_at: datetime
    updated_at: datetime


def block_from_row(row: Row[Any]) -> Block:
    return Block(
        id=row.id,
        label=row.label,
        value=row.value,
        limit=row.limit,
        description=row.description,
        read_only=row.read_only,
        metadata=row.metadata_json,
    )


def _visible(owner_id: str) -> Any:
    """Blocks this owner may see: their own detached ones and those of their agents."""
    owned_agents = select(agents.c.id).where(agents.c.owner_id == owner_id)
    return or_(
        and_(blocks.c.agent_id.is_(None), blocks.c.owner_id == owner_id),
        blocks.c.agent_id.in_(owned_agents),
    )


def _stored(row: Row[Any]) -> StoredBlock:
    return StoredBlock(block_from_row(row), row.agent_id, row.created_at, row.updated_at)


async def insert_block(
    conn: AsyncConnection, owner_id: str, block: Block, agent_id: str | None, now: datetime
) -> None:
    position = 0
    if agent_id is not None:
        position = int(
            await conn.scalar(
                select(func.coalesce(func.max(blocks.c.position) + 1, 0)).where(blocks.c.agent_id == agent_id)
            )
            or 0
        )
    await conn.execute(
        insert(blocks).values(
            id=block.id,
            agent_id=agent_id,
            owner_id=owner_id,
            label=block.label,
            value=block.value,
            limit=block.limit,
            description=block.description,
            read_only=block.read_only,
            metadata_json=block.metadata,
            position=position,
            created_at=now,
            updated_at=now,
        )
    )


async def get_block(conn: AsyncConnection, owner_id: str, block_id: str) -> StoredBlock | None:
    row = (await conn.execute(select(blocks).where(blocks.c.id == block_id, _visible(owner_id)))).first()
    return _stored(row) if row else None


async def agent_block(conn: AsyncConnection, agent_id: str, label: str) -> StoredBlock | None:
    row = (
        await conn.execute(select(blocks).where(blocks.c.agent_id == agent_id, blocks.c.label == label))
    ).first()
    return _stored(row) if row else None


async def list_blocks(
    conn: AsyncConnection,
    owner_id: str,
    page: PageRequest,
    *,
    agent_id: str | None = None,
    label: str | None = None,
) -> list[StoredBlock]:
    """Blocks in creation order; an agent's blocks in the order its memory shows them."""
    query = select(blocks).where(_visible(owner_id))
    order_by = (blocks.c.created_at, blocks.c.id)
    if agent_id is not None:
        query = query.where(blocks.c.agent_id == agent_id)
        order_by = (blocks.c.position, blocks.c.id)
    if label is not None:
        query = query.where(blocks.c.label == label)
    rows = await fetch_page(conn, query, order_by=order_by, id_column=blocks.c.id, page=page)
    return [_stored(row) for row in rows]


async def update_block(
    conn: AsyncConnection, block_id: str, values: Mapping[str, Any], now: datetime
) -> None:
    """Change only the given columns (``value``, ``limit``, ``label``, …); the others stay as they are."""
    await conn.execute(update(blocks).where(blocks.c.id == block_id).values(**values, updated_at=now))


async def attach_block(conn: AsyncConnection, block_id: str, agent_id: str, now: datetime) -> None:
    position = await conn.scalar(
        select(func.coalesce(func.max(blocks.c.position) + 1, 0)).where(blocks.c.agent_id == agent_id)
    )
    await conn.execute(
        update(blocks)
        .where(blocks.c.id == block_id)
        .values(agent_id=agent_id, position=int(position or 0), updated_at=now)
    )


async def detach_block(conn: AsyncConnection, block_id: str, owner_id: str, now: datetime) -> None:
    await conn.execute(
        update(blocks).where(blocks.c.id == block_id).values(agent_id=None, owner_id=owner_id, updated_at=now)
    )


async def delete_block(conn: AsyncConnection, block_id: str) -> None:
    await conn.execute(blocks.delete().where(blocks.c.id == block_id))


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
