"""Batches, their items, and the per-agent ordering of items (one turn at a time per agent)."""

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.batch_outcome import (
    BatchEnd,
    BatchOutcome,
    ItemOutcomes,
    batch_outcome,
    cancel_error,
    expiry_error,
)
from agentbatch.domain.batches import Batch, BatchItem, RequestCounts, Usage
from agentbatch.domain.paging import PageRequest
from agentbatch.domain.pricing import CostTotals
from agentbatch.domain.states import (
    UNFINISHED_BATCH_STATUSES,
    UNFINISHED_ITEM_STATUSES,
    BatchStatus,
    ItemStatus,
    StopReason,
)
from agentbatch.store import queue
from agentbatch.store.new_items import NewItem
from agentbatch.store.paging import fetch_page
from agentbatch.store.tables import batch_items, batches


async def insert_batch(conn: AsyncConnection, batch: Batch, items: Sequence[NewItem]) -> None:
    """Insert a batch and its items, in the order given, in bulk."""
    await insert_batch_in_parts(conn, batch, [items], {item.agent_id for item in items})


async def insert_batch_in_parts(
    conn: AsyncConnection, batch: Batch, parts: Iterable[Sequence[NewItem]], agent_ids: Collection[str]
) -> None:
    """Insert a batch and its items, given a part at a time (``agent_ids``: every agent they are for), in
    the order given, in bulk: each part is written while ``parts`` builds the next."""
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
    await queue.insert_item_parts(
        conn, batch.id, batch.owner_id, parts, agent_ids, batch.created_at, priority=batch.priority
    )


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
    """Attach request counts, usage and cost totals to a page of batches: one grouped scan of their items
    (by batch and status), summed per batch here, not N+1 and not one scan for counts and one for usage."""
    result = [_batch_from_row(row) for row in rows]
    if not result:
        return result
    by_id = {batch.id: batch for batch in result}
    groups = await conn.execute(
        select(
            batch_items.c.batch_id,
            batch_items.c.status,
            func.count(),
            func.min(batch_items.c.agent_id),
            func.max(batch_items.c.agent_id),
            *_USAGE_SUMS,
            *_COST_SUMS,
        )
        .where(batch_items.c.batch_id.in_(by_id))
        .group_by(batch_items.c.batch_id, batch_items.c.status)
    )
    agents: dict[str, set[str]] = {}
    usage: dict[str, list[int]] = {}
    for batch_id, status, count, lowest_agent, highest_agent, *sums in groups:
        by_id[batch_id].counts.add(ItemStatus(status), count)
        agents.setdefault(batch_id, set()).update((lowest_agent, highest_agent))
        totals = usage.setdefault(batch_id, [0] * len(sums))
        for index, value in enumerate(sums):
            totals[index] += int(value or 0)
    for batch_id, addressed in agents.items():
        by_id[batch_id].agent_id = addressed.pop() if len(addressed) == 1 else None
    for batch_id, totals in usage.items():
        used = Usage(*totals[: len(_USAGE_SUMS)])
        if used.step_count > 0:  # tokens and cost only grow with steps: no step, nothing to add
            by_id[batch_id].usage = used
            by_id[batch_id].cost = CostTotals(*totals[len(_USAGE_SUMS) :])
    return result


_USAGE_SUMS = tuple(
    func.sum(column)
    for column in (
        batch_items.c.prompt_tokens,
        batch_items.c.completion_tokens,
        batch_items.c.step_count,
        batch_items.c.cached_tokens,
        batch_items.c.cache_write_tokens,
    )
)
"""In the order of ``Usage``' fields."""


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
    columns = row._mapping
    return Batch(
        id=columns["id"],
        owner_id=columns["owner_id"],
        status=BatchStatus(columns["status"]),
        request_count=columns["request_count"],
        created_at=columns["created_at"],
        updated_at=columns["updated_at"],
        stop_reason=columns["stop_reason"],
        metadata=columns["metadata_json"],
        callback_url=columns["callback_url"],
        callback_sent_at=columns["callback_sent_at"],
        callback_status_code=columns["callback_status_code"],
        callback_error=columns["callback_error"],
        expires_at=columns["expires_at"],
        started_at=columns["started_at"],
        completed_at=columns["completed_at"],
        ttft_ns=columns["ttft_ns"],
        total_duration_ns=columns["total_duration_ns"],
        last_updated_by_id=columns["last_updated_by_id"],
        dispatch=columns["dispatch"],
        counts=RequestCounts(),
        priority=columns["priority"],
    )


async def list_items(conn: AsyncConnection, batch_id: str, page: PageRequest) -> list[BatchItem]:
    query = select(batch_items).where(batch_items.c.batch_id == batch_id)
    rows = await fetch_page(conn, query, order_by=(batch_items.c.seq,), id_column=batch_items.c.id, page=page)
    return [item_from_row(row) for row in rows]


def item_from_row(row: Row[Any]) -> BatchItem:
    columns = row._mapping
    return BatchItem(
        id=columns["id"],
        batch_id=columns["batch_id"],
        agent_id=columns["agent_id"],
        position=columns["position"],
        status=ItemStatus(columns["status"]),
        step_count=columns["step_count"],
        created_at=columns["created_at"],
        stop_reason=columns["stop_reason"],
        prompt_tokens=columns["prompt_tokens"],
        completion_tokens=columns["completion_tokens"],
        cached_tokens=columns["cached_tokens"],
        cache_write_tokens=columns["cache_write_tokens"],
        ttft_ns=columns["ttft_ns"],
        duration_ns=columns["duration_ns"],
        error=columns["error"],
        started_at=columns["started_at"],
        completed_at=columns["completed_at"],
        custom_id=columns["custom_id"],
        attempts=columns["attempts"],
        cost=CostTotals(*(columns[column] for column in _COST_COLUMNS)),
    )


async def end_items(
    conn: AsyncConnection,
    batch_id: str,
    status: ItemStatus,
    stop_reason: StopReason | None,
    error: str,
    now: datetime,
) -> int:
    """End the batch's unfinished items (cancel, expiry), saying why in ``error``, and let each agent's
    next item go ahead; returns how many ended."""
    affected = [
        row.agent_id
        for row in await conn.execute(
            select(batch_items.c.agent_id)
            .where(batch_items.c.batch_id == batch_id, batch_items.c.status.in_(UNFINISHED_ITEM_STATUSES))
            .distinct()
        )
    ]
    await queue.lock_agents(conn, affected)
    result = await conn.execute(
        update(batch_items)
        .where(batch_items.c.batch_id == batch_id, batch_items.c.status.in_(UNFINISHED_ITEM_STATUSES))
        .values(
            status=status.value,
            stop_reason=stop_reason.value if stop_reason else None,
            error=error,
            ready=False,
            lease_owner=None,
            lease_expires_at=None,
            completed_at=now,
        )
    )
    await queue.promote_next_items(conn, affected)
    return int(result.rowcount or 0)


async def item_outcomes(conn: AsyncConnection, batch_ids: Collection[str]) -> dict[str, ItemOutcomes]:
    """Per batch, how many of its items ended with each (status, stop reason), in one query."""
    tallies: dict[str, dict[tuple[ItemStatus, StopReason | None], int]] = {key: {} for key in batch_ids}
    if not tallies:
        return {}
    rows = await conn.execute(
        select(batch_items.c.batch_id, batch_items.c.status, batch_items.c.stop_reason, func.count())
        .where(batch_items.c.batch_id.in_(list(tallies)))
        .group_by(batch_items.c.batch_id, batch_items.c.status, batch_items.c.stop_reason)
    )
    for batch_id, status, reason, count in rows:
        tallies[batch_id][(ItemStatus(status), StopReason(reason) if reason else None)] = count
    return {batch_id: ItemOutcomes(tally) for batch_id, tally in tallies.items()}


async def end_batch(
    conn: AsyncConnection, batch: Batch, end: BatchEnd, now: datetime, by: str | None
) -> bool:
    """Move an unfinished batch to the terminal status and stop reason its items' outcomes give
    (``domain.batch_outcome``); False if it had already ended. Its items must have ended first."""
    outcomes = (await item_outcomes(conn, [batch.id]))[batch.id]
    return await write_batch_end(conn, batch, batch_outcome(outcomes, end), now, by)


async def write_batch_end(
    conn: AsyncConnection, batch: Batch, outcome: BatchOutcome, now: datetime, by: str | None
) -> bool:
    result = await conn.execute(
        update(batches)
        .where(batches.c.id == batch.id, batches.c.status.in_(UNFINISHED_BATCH_STATUSES))
        .values(
            status=outcome.status.value,
            stop_reason=outcome.stop_reason.value if outcome.stop_reason else None,
            completed_at=now,
            total_duration_ns=int((now - batch.created_at).total_seconds() * 1e9),
            callback_due_at=now if batch.callback_url else None,
            updated_at=now,
            last_updated_by_id=by,
        )
    )
    return bool(result.rowcount)


async def cancel_batch(conn: AsyncConnection, batch: Batch, now: datetime, by: str | None) -> int | None:
    """End the batch's unfinished items and the batch itself as cancelled; returns how many items it
    ended, or None if the batch had already ended."""
    ended = await end_items(
        conn, batch.id, ItemStatus.CANCELLED, StopReason.CANCELLED, cancel_error(batch.id), now
    )
    return ended if await end_batch(conn, batch, BatchEnd.CANCEL, now, by) else None


async def find_batch(conn: AsyncConnection, batch_id: str) -> Batch | None:
    """The batch by id alone, without its counts (the engine's view, not an owner's)."""
    row = (await conn.execute(select(batches).where(batches.c.id == batch_id))).first()
    return _batch_from_row(row) if row is not None else None


async def get_item(conn: AsyncConnection, item_id: str) -> BatchItem | None:
    row = (await conn.execute(select(batch_items).where(batch_items.c.id == item_id))).first()
    return item_from_row(row) if row else None


async def expire_due_batches(conn: AsyncConnection, now: datetime) -> list[tuple[str, int]]:
    """Batches past their completion window: unfinished items expire, each with an error naming the
    window, then the batch does. Returns each expired batch's id with how many items it expired."""
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
        assert batch.expires_at is not None
        error = expiry_error(batch.expires_at - batch.created_at)
        ended = await end_items(conn, batch.id, ItemStatus.EXPIRED, None, error, now)
        if await end_batch(conn, batch, BatchEnd.EXPIRY, now, None):
            expired.append((batch.id, ended))
    return expired
