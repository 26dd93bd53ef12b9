"""Provider batches of the lane and the requests they carry: every statement of the lane's bookkeeping.

A provider batch row is written (``submitting``) with its request rows before the provider is called,
gets the provider's id right after (``open``), and ends (``ended``) when its results are stored.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.states import UNFINISHED_ITEM_STATUSES
from agentbatch.store.tables import batch_items, batches, provider_batch_requests, provider_batches, workers

SUBMITTING, OPEN, CANCELLING, ENDED = "submitting", "open", "cancelling", "ended"
SUBMITTED, LOST = "submitted", "lost"


@dataclass(frozen=True, slots=True)
class LaneRequest:
    """One request of a step in a provider batch (attempt ≥ 1)."""

    custom_id: str
    submission_id: str
    item_id: str
    batch_id: str | None
    step_no: int
    attempt: int
    state: str = SUBMITTED
    retryable: bool = False
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderBatchRow:
    id: str
    provider: str
    model: str
    provider_batch_id: str | None
    status: str
    request_count: int
    created_at: datetime
    estimated_tokens: int = 0


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    custom_id: str
    state: str
    retryable: bool
    result: dict[str, Any] | None
    error: str | None


async def dispatch_of(
    conn: AsyncConnection, batch_ids: Iterable[str]
) -> dict[str, tuple[str, datetime | None]]:
    """Each batch's dispatch mode and the end of its completion window."""
    ids = list(set(batch_ids))
    if not ids:
        return {}
    rows = await conn.execute(
        select(batches.c.id, batches.c.dispatch, batches.c.expires_at).where(batches.c.id.in_(ids))
    )
    return {row.id: (row.dispatch, row.expires_at) for row in rows}


async def latest_request(conn: AsyncConnection, item_id: str, step_no: int) -> LaneRequest | None:
    """The newest attempt of a step in the lane, if it was ever submitted."""
    r = provider_batch_requests.c
    row = (
        await conn.execute(
            select(provider_batch_requests)
            .where(r.item_id == item_id, r.step_no == step_no)
            .order_by(r.attempt.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else _request(row)


async def record_submission(
    conn: AsyncConnection,
    batch: ProviderBatchRow,
    worker_id: str,
    requests: Sequence[LaneRequest],
) -> None:
    """The intent to submit, written before the provider is called."""
    await conn.execute(
        provider_batches.insert().values(
            id=batch.id,
            provider=batch.provider,
            model=batch.model,
            status=SUBMITTING,
            worker_id=worker_id,
            request_count=len(requests),
            estimated_tokens=batch.estimated_tokens,
            created_at=batch.created_at,
        )
    )
    await conn.execute(
        provider_batch_requests.insert(),
        [
            {
                "custom_id": request.custom_id,
                "submission_id": batch.id,
                "item_id": request.item_id,
                "batch_id": request.batch_id,
                "step_no": request.step_no,
                "attempt": request.attempt,
                "state": SUBMITTED,
                "retryable": False,
            }
            for request in requests
        ],
    )


async def mark_submitted(
    conn: AsyncConnection, submission_id: str, provider_batch_id: str, now: datetime
) -> None:
    await conn.execute(
        update(provider_batches)
        .where(provider_batches.c.id == submission_id)
        .values(provider_batch_id=provider_batch_id, status=OPEN, submitted_at=now)
    )


async def mark_status(conn: AsyncConnection, submission_id: str, status: str) -> None:
    await conn.execute(
        update(provider_batches).where(provider_batches.c.id == submission_id).values(status=status)
    )


async def end_unsent(
    conn: AsyncConnection, submission_id: str, error: str, now: datetime, *, retryable: bool
) -> None:
    """A submission that never reached the provider (refused, or lost in a crash): its requests end,
    so their steps go into a later provider batch under their next attempt."""
    await conn.execute(
        update(provider_batch_requests)
        .where(
            provider_batch_requests.c.submission_id == submission_id,
            provider_batch_requests.c.state == SUBMITTED,
        )
        .values(state=LOST, retryable=retryable, error=error)
    )
    await conn.execute(
        update(provider_batches)
        .where(provider_batches.c.id == submission_id)
        .values(status=ENDED, ended_at=now)
    )


async def store_outcomes(
    conn: AsyncConnection, submission_id: str, outcomes: Sequence[StoredOutcome], now: datetime
) -> None:
    """Every request's outcome and the batch's end, in one transaction; requests the provider did not
    report end as lost (retryable)."""
    r = provider_batch_requests.c
    if outcomes:
        await conn.execute(
            update(provider_batch_requests)
            .where(
                r.custom_id == bindparam("b_custom_id"),
                r.submission_id == submission_id,
                r.state == SUBMITTED,
            )
            .values(
                state=bindparam("b_state"),
                retryable=bindparam("b_retryable"),
                result=bindparam("b_result"),
                error=bindparam("b_error"),
            ),
            [
                {
                    "b_custom_id": o.custom_id,
                    "b_state": o.state,
                    "b_retryable": o.retryable,
                    "b_result": o.result,
                    "b_error": o.error,
                }
                for o in outcomes
            ],
        )
    await end_unsent(
        conn, submission_id, "the provider batch ended without this request", now, retryable=True
    )


async def requests_of(conn: AsyncConnection, submission_id: str) -> list[LaneRequest]:
    rows = await conn.execute(
        select(provider_batch_requests).where(provider_batch_requests.c.submission_id == submission_id)
    )
    return [_request(row) for row in rows]


async def open_batches(conn: AsyncConnection, worker_id: str) -> list[ProviderBatchRow]:
    rows = await conn.execute(
        select(provider_batches).where(
            provider_batches.c.status != ENDED, provider_batches.c.worker_id == worker_id
        )
    )
    return [_batch(row) for row in rows]


async def adopt_orphans(conn: AsyncConnection, worker_id: str, alive_since: datetime | None) -> int:
    """Take over the unfinished provider batches of workers that are gone (all of them when
    ``alive_since`` is None: the only process of an SQLite file)."""
    query = update(provider_batches).where(
        provider_batches.c.status != ENDED, provider_batches.c.worker_id != worker_id
    )
    if alive_since is not None:
        live = select(workers.c.id).where(workers.c.heartbeat_at >= alive_since)
        query = query.where(provider_batches.c.worker_id.not_in(live))
    result = await conn.execute(query.values(worker_id=worker_id))
    return int(result.rowcount or 0)


async def only_finished_items(conn: AsyncConnection, submission_id: str) -> bool:
    """True when no request of this provider batch belongs to an item still to be run: nobody needs
    its answers any more (their batch was cancelled or expired)."""
    r = provider_batch_requests.c
    unfinished = await conn.scalar(
        select(func.count())
        .select_from(provider_batch_requests.join(batch_items, batch_items.c.id == r.item_id))
        .where(
            and_(
                r.submission_id == submission_id,
                batch_items.c.status.in_([status.value for status in UNFINISHED_ITEM_STATUSES]),
            )
        )
    )
    return not unfinished


async def count_attempt(conn: AsyncConnection, item_id: str) -> None:
    """A step resubmitted in the lane counts as another attempt of its item."""
    await conn.execute(
        update(batch_items).where(batch_items.c.id == item_id).values(attempts=batch_items.c.attempts + 1)
    )


def _request(row: Any) -> LaneRequest:
    return LaneRequest(
        custom_id=row.custom_id,
        submission_id=row.submission_id,
        item_id=row.item_id,
        batch_id=row.batch_id,
        step_no=row.step_no,
        attempt=row.attempt,
        state=row.state,
        retryable=bool(row.retryable),
        result=row.result,
        error=row.error,
    )


def _batch(row: Any) -> ProviderBatchRow:
    return ProviderBatchRow(
        id=row.id,
        provider=row.provider,
        model=row.model,
        provider_batch_id=row.provider_batch_id,
        status=row.status,
        request_count=row.request_count,
        created_at=row.created_at,
        estimated_tokens=row.estimated_tokens,
    )
