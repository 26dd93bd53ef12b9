"""The item queue: insertion in per-agent order, claims with leases, renewal, recovery, expiry.

Only an agent's oldest unfinished item is ``ready`` (claimable); every transaction that ends items
promotes each affected agent's next one. On PostgreSQL the agents' rows are locked first, so that a
submission and a turn's end for the same agent cannot miss each other.
"""

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from sqlalchemy import String, column, exists, func, select, update, values
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.states import (
    UNFINISHED_BATCH_STATUSES,
    BatchStatus,
    ItemStatus,
    StopReason,
)
from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.domain.turn_request_json import request_from_json
from agentbatch.store.bound_lists import in_parts
from agentbatch.store.bulk import overlapped_inserts
from agentbatch.store.dialect import dialect_of
from agentbatch.store.item_predicates import item_is_agent_head, item_is_claimable, item_is_unfinished
from agentbatch.store.new_items import NewItem, new_item_columns, new_item_constants
from agentbatch.store.tables import agents, batch_items, batches


async def insert_items(
    conn: AsyncConnection,
    batch_id: str | None,
    owner_id: str,
    items: Sequence[NewItem],
    now: datetime,
    *,
    priority: int = 0,
) -> None:
    await insert_item_parts(
        conn, batch_id, owner_id, [items], {item.agent_id for item in items}, now, priority=priority
    )


async def insert_item_parts(
    conn: AsyncConnection,
    batch_id: str | None,
    owner_id: str,
    parts: Iterable[Sequence[NewItem]],
    agent_ids: Collection[str],
    now: datetime,
    *,
    priority: int = 0,
) -> None:
    """Queue items given a part at a time (``agent_ids``: every agent they are for), in order: each part
    is written while ``parts`` builds the next (``bulk.overlapped_inserts``)."""
    await lock_agents(conn, agent_ids)
    busy = await agents_with_unfinished_items(conn, agent_ids)
    shared = new_item_constants(batch_id=batch_id, owner_id=owner_id, priority=priority, now=now)
    position = 0
    async with overlapped_inserts(conn) as writer:
        for items in parts:
            columns = new_item_columns(items, busy_agents=busy, first_position=position)
            position += len(items)
            await writer.insert(batch_items, columns, shared)


async def lock_agents(conn: AsyncConnection, agent_ids: Iterable[str]) -> None:
    """Serialise item bookkeeping per agent across processes (PostgreSQL; SQLite has one writer)."""
    dialect = dialect_of(conn)
    if not dialect.locks_rows:
        return
    ids = sorted(set(agent_ids))
    for chunk in in_parts(ids):
        await conn.execute(
            dialect.lock(select(agents.c.id).where(agents.c.id.in_(chunk)).order_by(agents.c.id))
        )


async def agents_with_unfinished_items(conn: AsyncConnection, agent_ids: Iterable[str]) -> set[str]:
    """Those of the agents with an unfinished item: those with a head, one index entry each, however many
    items they have queued or have run before."""
    ids = list(set(agent_ids))
    busy: set[str] = set()
    for part in in_parts(ids):
        rows = await conn.execute(
            select(batch_items.c.agent_id).where(batch_items.c.agent_id.in_(part), item_is_agent_head)
        )
        busy.update(agent_id for (agent_id,) in rows)
    return busy


async def promote_next_items(conn: AsyncConnection, agent_ids: Iterable[str]) -> None:
    """Make each agent's oldest unfinished item its head (ready), unless the agent still has one.

    Called in every transaction that ends items (a turn's end, cancel, expiry), after ``lock_agents``.
    Per agent without a head, one seek: the first entry of ``ix_batch_items_agent_unfinished``, whatever
    the length of its queue or of its history.
    """
    ids = sorted(set(agent_ids))
    for part in in_parts(ids):  # a bound value an agent, within the drivers' limits
        await _promote(conn, part)


async def _promote(conn: AsyncConnection, ids: Sequence[str]) -> None:
    candidates = values(column("agent_id", String), name="promoted").data([(i,) for i in ids]).cte()
    of_candidate = batch_items.c.agent_id == candidates.c.agent_id
    has_head = exists().where(of_candidate, item_is_agent_head).correlate(candidates)
    oldest_unfinished = (
        select(batch_items.c.seq)
        .where(of_candidate, item_is_unfinished)
        .order_by(batch_items.c.seq)
        .limit(1)
        .correlate(candidates)
        .scalar_subquery()
    )
    heads = select(oldest_unfinished).select_from(candidates).where(~has_head)
    await conn.execute(update(batch_items).where(batch_items.c.seq.in_(heads)).values(ready=True))


async def cancel_items_of_agent(
    conn: AsyncConnection, agent_id: str, reason: str, now: datetime
) -> tuple[set[str], int]:
    """Cancel every unfinished item (batch or synchronous) of an agent about to be deleted, in the
    deleting transaction; returns the batches they belong to and how many items it cancelled. A turn
    still running for one of them is fenced off: its next commit finds the item cancelled and writes
    nothing."""
    rows = await conn.execute(
        update(batch_items)
        .where(batch_items.c.agent_id == agent_id, item_is_unfinished)
        .values(
            status=ItemStatus.CANCELLED.value,
            stop_reason=StopReason.CANCELLED.value,
            error=reason,
            ready=False,
            lease_owner=None,
            lease_expires_at=None,
            completed_at=now,
        )
        .returning(batch_items.c.batch_id)
    )
    batch_ids = [row.batch_id for row in rows]
    return {batch_id for batch_id in batch_ids if batch_id is not None}, len(batch_ids)


async def claimable_models(conn: AsyncConnection) -> list[str]:
    """The models that have claimable items, by a skip scan of the claimable index: one seek per model
    (the next model after the last found), not a pass over every claimable item as DISTINCT makes."""
    first = select(func.min(batch_items.c.model).label("model")).where(item_is_claimable)
    found = first.cte("claimable_models", recursive=True)
    previous = found.alias("previous")
    following = (
        select(func.min(batch_items.c.model))
        .where(item_is_claimable, batch_items.c.model > previous.c.model)
        .scalar_subquery()
    )
    found = found.union_all(select(following).where(previous.c.model.is_not(None)))
    rows = await conn.execute(select(found.c.model).where(found.c.model.is_not(None)))
    return [row.model for row in rows]


async def claim_items(
    conn: AsyncConnection,
    worker_id: str,
    *,
    model: str | None,
    limit: int,
    lease_until: datetime,
    now: datetime,
    item_id: str | None = None,
) -> list[ClaimedItem]:
    """Lease up to ``limit`` ready items of a model, highest batch priority then oldest first (or the
    one named item)."""
    candidates = select(batch_items.c.seq).where(item_is_claimable)
    if item_id is not None:
        candidates = candidates.where(batch_items.c.id == item_id)
    if model is not None:
        candidates = candidates.where(batch_items.c.model == model)
    candidates = candidates.order_by(batch_items.c.claim_rank, batch_items.c.seq).limit(limit)
    candidates = dialect_of(conn).claim_lock(candidates)
    rows = (
        await conn.execute(
            update(batch_items)
            .where(batch_items.c.seq.in_(candidates.scalar_subquery()))
            .values(
                status=ItemStatus.RUNNING.value,
                lease_owner=worker_id,
                lease_expires_at=lease_until,
                attempts=batch_items.c.attempts + 1,
                started_at=func.coalesce(batch_items.c.started_at, now),
            )
            .returning(
                batch_items.c.id,
                batch_items.c.batch_id,
                batch_items.c.agent_id,
                batch_items.c.owner_id,
                batch_items.c.model,
                batch_items.c.request,
                batch_items.c.step_count,
                batch_items.c.started_at,
            )
        )
    ).all()
    claimed = [
        ClaimedItem(
            id=columns["id"],
            batch_id=columns["batch_id"],
            agent_id=columns["agent_id"],
            owner_id=columns["owner_id"],
            model=columns["model"],
            request=request_from_json(columns["request"]),
            step_count=columns["step_count"],
            lease_owner=worker_id,
            started_at=columns["started_at"],
        )
        for columns in (row._mapping for row in rows)
    ]
    await _mark_batches_running(conn, claimed, now)
    return claimed


async def _mark_batches_running(conn: AsyncConnection, claimed: Sequence[ClaimedItem], now: datetime) -> None:
    batch_ids = list({item.batch_id for item in claimed if item.batch_id is not None})
    if not batch_ids:
        return
    started = set(
        (
            await conn.execute(
                update(batches)
                .where(batches.c.id.in_(batch_ids), batches.c.status == BatchStatus.CREATED.value)
                .values(status=BatchStatus.RUNNING.value, started_at=now, updated_at=now)
                .returning(batches.c.id)
            )
        ).scalars()
    )
    query = select(batches.c.id, batches.c.created_at).where(batches.c.id.in_(batch_ids))
    created = {batch_id: created_at for batch_id, created_at in await conn.execute(query)}
    for item in claimed:
        if item.batch_id is not None:
            item.batch_created_at = created.get(item.batch_id)
            if item.batch_id in started:
                item.batch_started = True
                started.discard(item.batch_id)


async def renew_leases(
    conn: AsyncConnection, worker_id: str, item_ids: Iterable[str], lease_until: datetime
) -> set[str]:
    """Extend the leases of the named items — those a live turn of this worker holds — and return the
    ones it still holds (the rest were taken away). Items of this worker without a live turn are not
    renewed: their leases expire and the sweep hands them to someone else."""
    ids = list(set(item_ids))
    held: set[str] = set()
    for part in in_parts(ids):
        rows = await conn.execute(
            update(batch_items)
            .where(
                batch_items.c.id.in_(part),
                batch_items.c.lease_owner == worker_id,
                batch_items.c.status == ItemStatus.RUNNING.value,
            )
            .values(lease_expires_at=lease_until)
            .returning(batch_items.c.id)
        )
        held.update(item_id for (item_id,) in rows)
    return held


async def release_item(conn: AsyncConnection, item_id: str, worker_id: str, error: str) -> bool:
    """Hand an item this worker holds back to the queue now (it stays its agent's head), noting why
    its last attempt ended in ``error``; False if the worker no longer held it."""
    result = await conn.execute(
        update(batch_items)
        .where(
            batch_items.c.id == item_id,
            batch_items.c.lease_owner == worker_id,
            batch_items.c.status == ItemStatus.RUNNING.value,
        )
        .values(status=ItemStatus.PENDING.value, lease_owner=None, lease_expires_at=None, error=error)
    )
    return bool(result.rowcount)


async def held_item_attempts(conn: AsyncConnection, item_id: str, worker_id: str) -> int | None:
    """How many times the item was claimed, if this worker still holds it (locked on PostgreSQL)."""
    query = select(batch_items.c.attempts).where(
        batch_items.c.id == item_id,
        batch_items.c.lease_owner == worker_id,
        batch_items.c.status == ItemStatus.RUNNING.value,
    )
    attempts = await conn.scalar(dialect_of(conn).lock(query))
    return int(attempts) if attempts is not None else None


async def release_expired_leases(conn: AsyncConnection, now: datetime) -> int:
    """Put items whose worker stopped renewing back in the queue (they stay their agent's head)."""
    rows = await conn.execute(
        update(batch_items)
        .where(batch_items.c.status == ItemStatus.RUNNING.value, batch_items.c.lease_expires_at < now)
        .values(status=ItemStatus.PENDING.value, lease_owner=None, lease_expires_at=None)
        .returning(batch_items.c.id)
    )
    return len(rows.all())


async def release_leases_of(conn: AsyncConnection, worker_ids: Sequence[str] | None = None) -> int:
    """Return running items to the queue now: all of them (SQLite at start-up: one process owns the
    file, so whatever ran before was cut short) or those of the named workers (a clean shutdown)."""
    query = update(batch_items).where(batch_items.c.status == ItemStatus.RUNNING.value)
    if worker_ids is not None:
        query = query.where(batch_items.c.lease_owner.in_(worker_ids))
    rows = await conn.execute(
        query.values(status=ItemStatus.PENDING.value, lease_owner=None, lease_expires_at=None).returning(
            batch_items.c.id
        )
    )
    return len(rows.all())


async def item_state(conn: AsyncConnection, item_id: str) -> tuple[ItemStatus, bool] | None:
    row = (
        await conn.execute(
            select(batch_items.c.status, batch_items.c.ready).where(batch_items.c.id == item_id)
        )
    ).first()
    return (ItemStatus(row.status), bool(row.ready)) if row else None


async def ended_batches(conn: AsyncConnection, batch_ids: Iterable[str]) -> set[str]:
    """Which of these batches have ended (cancelled, expired, …): their turns must stop."""
    ids = list(set(batch_ids))
    if not ids:
        return set()
    rows = await conn.execute(
        select(batches.c.id).where(batches.c.id.in_(ids), batches.c.status.not_in(UNFINISHED_BATCH_STATUSES))
    )
    return {row.id for row in rows}
