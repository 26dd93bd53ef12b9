"""Batch-end callbacks due for delivery: claimed with a short lease, then their outcome recorded."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.batches import Batch
from agentbatch.store.batches import with_progress
from agentbatch.store.tables import batches


@dataclass(frozen=True, slots=True)
class DueCallback:
    batch: Batch
    attempts: int


async def claim_due_callbacks(
    conn: AsyncConnection, now: datetime, lease_until: datetime, limit: int
) -> list[DueCallback]:
    """Callbacks due now; each is pushed to ``lease_until`` so no other worker sends it meanwhile."""
    query = (
        select(batches)
        .where(batches.c.callback_due_at.is_not(None), batches.c.callback_due_at <= now)
        .order_by(batches.c.callback_due_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = (await conn.execute(query)).all()
    if not rows:
        return []
    await conn.execute(
        update(batches).where(batches.c.id.in_([row.id for row in rows])).values(callback_due_at=lease_until)
    )
    attempts = {row.id: row.callback_attempts for row in rows}
    return [DueCallback(batch, attempts[batch.id]) for batch in await with_progress(conn, rows)]


async def record_callback_attempt(
    conn: AsyncConnection,
    batch_id: str,
    *,
    sent_at: datetime,
    status_code: int | None,
    error: str | None,
    attempts: int,
    next_due_at: datetime | None,
) -> None:
    await conn.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(
            callback_sent_at=sent_at,
            callback_status_code=status_code,
            callback_error=error,
            callback_attempts=attempts,
            callback_due_at=next_due_at,
        )
    )
