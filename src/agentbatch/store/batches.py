"""Batches, their items, and the per-agent ordering of items (one turn at a time per agent)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.batches import Batch, BatchItem, RequestCounts, Usage
from agentbatch.domain.paging import PageRequest
from agentbatch.domain.pricing import CostTotals
from agentbatch.domain.states import (
    UNFINISHED_BATCH_STATUSES,
    UNFINISHED_ITEM_STATUSES,
    BatchStatus,
    ItemStatus,
    StopReason,
    batch_stop_reason,
)
from agentbatch.store import queue
from agentbatch.store.pagination import fetch_page
from agentbatch.store.tables import batch_items, batches

_INSERT_CHUNK = 5_000


async def insert_batch(conn: AsyncConnection, batch: Batch, items: Sequence[dict[str, Any]]) -> None:
    """Insert a batch and its items (dicts with id, agent_id, model, position, request) in bulk."""
    await conn.execute(
        insert(batches).values(
            id=batch.id,
            owner_id=batch.owner_id,
            status=batch.status.value,
            metadata_json=batch.metadata,
            request_count=batch.request_count,
            callback_url=batch.callback_url,
            expires_at=batch.expires_at,
            created_at=batch.created_at,
            updated_at=batch.updated_at,
            last_updated_by_id=batch.last_updated_by_id,
            priority=batch.priority,
            dispatch=batch.dispatch,
        )
    )
    await queue.insert_items(conn, batch.id, batch.owner_id, items, batch.created_at)


async def get_batch(conn: AsyncConnection, owner_id: str, batch_id: str) -> Batch | None:
    row = (
        await conn.execute(select(batches).where(batches.c.id == batch_id, batches.c.owner_id == owner_id))
    ).first()
    if row is None:
        return None
    return (await with_progress(conn, [row]))[0]


async def list_batches(
    conn: AsyncConnection, owner_id: str, page: PageRequest, *, statuses: Sequence[BatchStatus] = ()
) -> list[Batch]:
    query = select(batches).where(batches.c.owner_id == owner_id)
    if statuses:
        query = query.where(batches.c.status.in_([status.value for status in statuses]))
    rows = await fetch_page(
        conn, query, order_by=(batches.c.created_at, batches.c.id), id_column=batches.c.id, page=page
    )
    return await with_progress(conn, rows)


async def with_progress(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[Batch]:
    """Attach request counts, usage and cost totals to a page of batches: two grouped queries, not N+1."""
    result = [_batch_from_row(row) for row in rows]
    if not result:
        return result
    by_id = {batch.id: batch for batch in result}
    counts = await conn.execute(
        select(batch_items.c.batch_id, batch_items.c.status, func.count())
        .where(batch_items.c.batch_id.in_(by_id))
        .group_by(batch_items.c.batch_id, batch_items.c.status)
    )
    for batch_id, status, count in counts:
        by_id[batch_id].counts.add(ItemStatus(status), count)
    usage = await conn.execute(
        select(
            batch_items.c.batch_id,
            func.sum(batch_items.c.prompt_tokens),
            func.sum(batch_items.c.completion_tokens),
            func.sum(batch_items.c.step_count),
            *_COST_SUMS,
        )
        .where(batch_items.c.batch_id.in_(by_id), batch_items.c.step_count > 0)
        .group_by(batch_items.c.batch_id)
    )
    for batch_id, prompt, completion, step_count, *cost in usage:
        by_id[batch_id].usage = Usage(int(prompt or 0), int(completion or 0), int(step_count or 0))
        by_id[batch_id].cost = CostTotals(*(int(value or 0) for value in cost))
    return result


_COST_COLUMNS = (
    batch_items.c.cost_nanos,
    batch_items.c.direct_cost_nanos,
    batch_items.c.provider_batch_cost_nanos,
    batch_items.c.unpriced_steps,
    batch_items.c.provider_batch_steps,
)
"""In the order of ``CostTotals``' fields."""
_COST_SUMS = tuple(func.sum(column) for column in _COST_COLUMNS)


def _batch_from_row(row: Row[Any]) -> Batch:
    return Batch(
        id=row.id,
        owner_id=row.owner_id,
        status=BatchStatus(row.status),
        request_count=row.request_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        stop_reason=row.stop_reason,
        metadata=row.metadata_json,
        callback_url=row.callback_url,
        callback_sent_at=row.callback_sent_at,
        callback_status_code=row.callback_status_code,
        callback_error=row.callback_error,
        expires_at=row.expires_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        ttft_ns=row.ttft_ns,
        total_duration_ns=row.total_duration_ns,
        last_updated_by_id=row.last_updated_by_id,
        dispatch=row.dispatch,
        counts=RequestCounts(),
        priority=row.priority,
    )


async def list_items(conn: AsyncConnection, batch_id: str, page: PageRequest) -> list[BatchItem]:
    query = select(batch_items).where(batch_items.c.batch_id == batch_id)
    rows = await fetch_page(conn, query, order_by=(batch_items.c.seq,), id_column=batch_items.c.id, page=page)
    return [item_from_row(row) for row in rows]


def item_from_row(row: Row[Any]) -> BatchItem:
    return BatchItem(
        id=row.id,
        batch_id=row.batch_id,
        agent_id=row.agent_id,
        position=row.position,
        status=ItemStatus(row.status),
        step_count=row.step_count,
        created_at=row.created_at,
        stop_reason=row.stop_reason,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        ttft_ns=row.ttft_ns,
        duration_ns=row.duration_ns,
        error=row.error,
        started_at=row.started_at,
        completed_at=row.completed_at,
        custom_id=row.custom_id,
        attempts=row.attempts,
        cost=CostTotals(*(row._mapping[column] for column in _COST_COLUMNS)),
    )


async def end_items(
    conn: AsyncConnection, batch_id: str, status: ItemStatus, stop_reason: StopReason | None, now: datetime
) -> None:
    """End the batch's unfinished items (cancel, expiry) and let each agent's next item go ahead."""
    affected = [
        row.agent_id
        for row in await conn.execute(
            select(batch_items.c.agent_id)
            .where(batch_items.c.batch_id == batch_id, batch_items.c.status.in_(UNFINISHED_ITEM_STATUSES))
            .distinct()
        )
    ]
    await queue.lock_agents(conn, affected)
    await conn.execute(
        update(batch_items)
        .where(batch_items.c.batch_id == batch_id, batch_items.c.status.in_(UNFINISHED_ITEM_STATUSES))
        .values(
            status=status.value,
            stop_reason=stop_reason.value if stop_reason else None,
            ready=False,
            lease_owner=None,
            lease_expires_at=None,
            completed_at=now,
        )
    )
    await queue.promote_next_items(conn, affected)


async def end_batch(
    conn: AsyncConnection, batch: Batch, status: BatchStatus, now: datetime, by: str | None
) -> bool:
    """Move an unfinished batch to a terminal status; False if it had already ended."""
    result = await conn.execute(
        update(batches)
        .where(batches.c.id == batch.id, batches.c.status.in_(UNFINISHED_BATCH_STATUSES))
        .values(
            status=status.value,
            stop_reason=stop_reason.value if (stop_reason := batch_stop_reason(status)) else None,
            completed_at=now,
            total_duration_ns=int((now - batch.created_at).total_seconds() * 1e9),
            callback_due_at=now if batch.callback_url else None,
            updated_at=now,
            last_updated_by_id=by,
        )
    )
    return bool(result.rowcount)


async def cancel_batch(conn: AsyncConnection, batch: Batch, now: datetime, by: str | None) -> bool:
    """End the batch's unfinished items and the batch itself as cancelled; False if it had ended."""
    await end_items(conn, batch.id, ItemStatus.CANCELLED, StopReason.CANCELLED, now)
    return await end_batch(conn, batch, BatchStatus.CANCELLED, now, by)


async def find_batch(conn: AsyncConnection, batch_id: str) -> Batch | None:
    """The batch by id alone, without its counts (the engine's view, not an owner's)."""
    row = (await conn.execute(select(batches).where(batches.c.id == batch_id))).first()
    return _batch_from_row(row) if row is not None else None


async def get_item(conn: AsyncConnection, item_id: str) -> BatchItem | None:
    row = (await conn.execute(select(batch_items).where(batch_items.c.id == item_id))).first()
    return item_from_row(row) if row else None


async def expire_due_batches(conn: AsyncConnection, now: datetime) -> list[str]:
    """Batches past their completion window: unfinished items expire, then the batch does."""
    due = (
        await conn.execute(
            select(batches).where(
                batches.c.status.in_(UNFINISHED_BATCH_STATUSES),
                batches.c.expires_at.is_not(None),
                batches.c.expires_at < now,
            )
        )
    ).all()
    expired = []
    for row in due:
        batch = _batch_from_row(row)
        await end_items(conn, batch.id, ItemStatus.EXPIRED, None, now)
        if await end_batch(conn, batch, BatchStatus.EXPIRED, now, None):
            expired.append(batch.id)
    return expired
