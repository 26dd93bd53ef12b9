"""An agent's turns as a whole: cancelling the current one, forgetting the history around it."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.messages import Message, Role
from agentbatch.domain.states import UNFINISHED_ITEM_STATUSES, ItemStatus, StopReason
from agentbatch.store import queue
from agentbatch.store.item_predicates import item_is_agent_head, item_is_unfinished
from agentbatch.store.messages import message_from_row
from agentbatch.store.steps import complete_finished_batches
from agentbatch.store.tables import batch_items, messages


async def cancel_current_turns(
    conn: AsyncConnection, agent_id: str, item_ids: Sequence[str] | None, now: datetime
) -> list[tuple[str, str | None]]:
    """Cancel the agent's turn that runs or is next to run (or, given ids, those of its unfinished
    items); returns ``(item id, batch id)`` of each cancelled item. A batch left with nothing
    unfinished completes; the agent's next item becomes ready."""
    await queue.lock_agents(conn, [agent_id])
    query = select(batch_items.c.id, batch_items.c.batch_id).where(
        batch_items.c.agent_id == agent_id, item_is_unfinished
    )
    if item_ids is not None:
        query = query.where(batch_items.c.id.in_(list(item_ids)))
    else:
        query = query.where(item_is_agent_head)
    found = [(row.id, row.batch_id) for row in await conn.execute(query)]
    if not found:
        return []
    await conn.execute(
        update(batch_items)
        .where(
            batch_items.c.id.in_([item_id for item_id, _ in found]),
            batch_items.c.status.in_(UNFINISHED_ITEM_STATUSES),
        )
        .values(
            status=ItemStatus.CANCELLED.value,
            stop_reason=StopReason.CANCELLED.value,
            error="cancelled through POST /v1/agents/{agent_id}/messages/cancel",
            ready=False,
            lease_owner=None,
            lease_expires_at=None,
            completed_at=now,
        )
    )
    await queue.promote_next_items(conn, [agent_id])
    await complete_finished_batches(conn, {batch_id for _, batch_id in found if batch_id}, now)
    return found


async def reset_history(conn: AsyncConnection, agent_id: str) -> int:
    """Delete the agent's messages, except those of a turn still unfinished (it goes on untouched)."""
    unfinished = select(batch_items.c.id).where(batch_items.c.agent_id == agent_id, item_is_unfinished)
    result = await conn.execute(
        delete(messages).where(
            messages.c.agent_id == agent_id,
            or_(messages.c.batch_item_id.is_(None), messages.c.batch_item_id.not_in(unfinished)),
        )
    )
    return int(result.rowcount or 0)


async def message_ids(conn: AsyncConnection, agent_ids: Sequence[str]) -> dict[str, list[str]]:
    """The ids of each agent's messages, oldest first (a turn's prompt draws on these), in one query."""
    found: dict[str, list[str]] = {agent_id: [] for agent_id in agent_ids}
    if not found:
        return found
    rows = await conn.execute(
        select(messages.c.agent_id, messages.c.id)
        .where(messages.c.agent_id.in_(list(found)))
        .order_by(messages.c.agent_id, messages.c.seq)
    )
    for row in rows:
        found[row.agent_id].append(row.id)
    return found


async def latest_approval_requests(conn: AsyncConnection, agent_ids: Sequence[str]) -> dict[str, Message]:
    """Per agent, its newest message if that is an approval request (the turn paused on it)."""
    if not agent_ids:
        return {}
    newest = (
        select(func.max(messages.c.seq))
        .where(messages.c.agent_id.in_(list(agent_ids)))
        .group_by(messages.c.agent_id)
    )
    rows = await conn.execute(
        select(messages).where(messages.c.seq.in_(newest), messages.c.role == Role.APPROVAL.value)
    )
    return {row.agent_id: message_from_row(row) for row in rows if row.tool_calls}
