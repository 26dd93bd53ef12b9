"""An agent's turns as a whole: cancelling the current one, forgetting the history around it."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.states import UNFINISHED_ITEM_STATUSES, ItemStatus, StopReason
from agentbatch.store import queue
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
        batch_items.c.agent_id == agent_id, batch_items.c.status.in_(UNFINISHED_ITEM_STATUSES)
    )
    if item_ids is not None:
        query = query.where(batch_items.c.id.in_(list(item_ids)))
    else:
        query = query.where(
            or_(
                batch_items.c.status == ItemStatus.RUNNING.value,
                (batch_items.c.status == ItemStatus.PENDING.value) & batch_items.c.ready,
            )
        )
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
    unfinished = select(batch_items.c.id).where(
        batch_items.c.agent_id == agent_id, batch_items.c.status.in_(UNFINISHED_ITEM_STATUSES)
    )
    result = await conn.execute(
        delete(messages).where(
            messages.c.agent_id == agent_id,
            or_(messages.c.batch_item_id.is_(None), messages.c.batch_item_id.not_in(unfinished)),
        )
    )
    return int(result.rowcount or 0)
