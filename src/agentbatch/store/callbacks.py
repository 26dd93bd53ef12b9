"""Batch-end callbacks: claimed when due with a short lease, every attempt written to the delivery log
(``callback_deliveries``) and its outcome to the batch, replays scheduled."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.batches import Batch
from agentbatch.store.batches import with_progress
from agentbatch.store.dialect import dialect_of
from agentbatch.store.tables import batches, callback_deliveries


@dataclass(frozen=True, slots=True)
class DueCallback:
    batch: Batch
    attempts: int
    webhook_id: str
    retry_until: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One POST to a callback URL. ``status_code`` is None when the endpoint was not reached."""

    batch_id: str
    webhook_id: str
    attempt: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    next_attempt_at: datetime | None

    @property
    def reached_endpoint(self) -> bool:
        return self.status_code is not None


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
    rows = (await conn.execute(dialect_of(conn).claim_lock(query))).all()
    if not rows:
        return []
    await conn.execute(
        update(batches).where(batches.c.id.in_([row.id for row in rows])).values(callback_due_at=lease_until)
    )
    by_id = {row.id: row for row in rows}
    return [
        DueCallback(
            batch,
            attempts=by_id[batch.id].callback_attempts,
            webhook_id=by_id[batch.id].callback_webhook_id or batch.id,
            retry_until=by_id[batch.id].callback_retry_until,
        )
        for batch in await with_progress(conn, rows)
    ]


async def record_callback_attempt(
    conn: AsyncConnection, attempt: DeliveryAttempt, *, retry_until: datetime | None
) -> None:
    """Log the attempt and set the batch's callback fields; ``callback_sent_at`` moves only when the
    endpoint answered."""
    await conn.execute(
        insert(callback_deliveries).values(
            batch_id=attempt.batch_id,
            webhook_id=attempt.webhook_id,
            attempt=attempt.attempt,
            attempted_at=attempt.attempted_at,
            status_code=attempt.status_code,
            latency_ms=attempt.latency_ms,
            error=attempt.error,
            next_attempt_at=attempt.next_attempt_at,
        )
    )
    values: dict[str, object] = {
        "callback_status_code": attempt.status_code,
        "callback_error": attempt.error,
        "callback_attempts": attempt.attempt,
        "callback_due_at": attempt.next_attempt_at,
        "callback_retry_until": retry_until,
    }
    if attempt.reached_endpoint:
        values["callback_sent_at"] = attempt.attempted_at
    await conn.execute(update(batches).where(batches.c.id == attempt.batch_id).values(**values))


async def list_deliveries(conn: AsyncConnection, batch_id: str) -> list[DeliveryAttempt]:
    rows = await conn.execute(
        select(callback_deliveries)
        .where(callback_deliveries.c.batch_id == batch_id)
        .order_by(callback_deliveries.c.seq)
    )
    return [
        DeliveryAttempt(
            batch_id=row.batch_id,
            webhook_id=row.webhook_id,
            attempt=row.attempt,
            attempted_at=row.attempted_at,
            status_code=row.status_code,
            latency_ms=row.latency_ms,
            error=row.error,
            next_attempt_at=row.next_attempt_at,
        )
        for row in rows
    ]


async def schedule_replay(conn: AsyncConnection, batch_id: str, webhook_id: str, now: datetime) -> None:
    """Send the callback again from now on, as a new message (``webhook_id``) with a fresh retry window."""
    await conn.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(
            callback_due_at=now,
            callback_attempts=0,
            callback_webhook_id=webhook_id,
            callback_retry_until=None,
            callback_error=None,
        )
    )
