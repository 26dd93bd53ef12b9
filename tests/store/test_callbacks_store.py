"""Callback bookkeeping: a batch that ends with a callback URL owes one; a due callback is claimed with a
short lease so nobody else sends it meanwhile; every attempt is logged in order and its outcome put on
the batch; a replay makes it due again as a new message."""

from datetime import timedelta

from agentbatch.domain.batch_outcome import BatchEnd
from agentbatch.domain.states import BatchStatus, StopReason
from agentbatch.store import batches as batch_store
from agentbatch.store import callbacks
from agentbatch.store.callbacks import DeliveryAttempt
from agentbatch.store.database import Database
from tests.store.builders import T0, StoredBatch, agent_ids, finish_item, store_batch

HOOK = "https://receiver.test/hook"
LEASE = timedelta(seconds=30)


async def _ended(
    db: Database, owner: str, *, callback_url: str | None = HOOK, at: timedelta = timedelta()
) -> StoredBatch:
    stored = await store_batch(db, owner, agent_ids(2), callback_url=callback_url)
    for item_id in stored.item_ids:
        await finish_item(db, item_id, StopReason.END_TURN)
    async with db.write() as conn:
        assert await batch_store.end_batch(conn, stored.batch, BatchEnd.ITEMS_ENDED, T0 + at, None)
    return stored


async def _claim(db: Database, now: timedelta, limit: int = 10) -> list[callbacks.DueCallback]:
    async with db.write() as conn:
        return await callbacks.claim_due_callbacks(conn, T0 + now, T0 + now + LEASE, limit)


def _attempt(batch_id: str, attempt: int, status: int | None, retry_in: timedelta | None) -> DeliveryAttempt:
    sent = T0 + timedelta(seconds=attempt)
    return DeliveryAttempt(
        batch_id=batch_id,
        webhook_id=batch_id,
        attempt=attempt,
        attempted_at=sent,
        status_code=status,
        latency_ms=12.5,
        error=None if status == 200 else f"attempt {attempt} failed",
        next_attempt_at=None if retry_in is None else sent + retry_in,
    )


async def test_an_ended_batch_with_a_url_owes_a_callback_and_one_without_does_not(
    fresh_db: Database, owner: str
) -> None:
    owed = await _ended(fresh_db, owner)
    await _ended(fresh_db, owner, callback_url=None)

    due = await _claim(fresh_db, timedelta())

    assert [d.batch.id for d in due] == [owed.id]
    (callback,) = due
    assert (callback.attempts, callback.webhook_id, callback.retry_until) == (0, owed.id, None)
    assert callback.batch.status is BatchStatus.COMPLETED
    assert (callback.batch.counts.total, callback.batch.counts.succeeded) == (2, 2)


async def test_a_claimed_callback_is_not_claimed_again_until_its_lease_passes(
    fresh_db: Database, owner: str
) -> None:
    owed = await _ended(fresh_db, owner)

    assert len(await _claim(fresh_db, timedelta())) == 1
    assert await _claim(fresh_db, LEASE - timedelta(seconds=1)) == []
    assert [d.batch.id for d in await _claim(fresh_db, LEASE)] == [owed.id]


async def test_callbacks_are_claimed_oldest_due_first_up_to_the_limit(fresh_db: Database, owner: str) -> None:
    late = await _ended(fresh_db, owner, at=timedelta(seconds=5))
    early = await _ended(fresh_db, owner, at=timedelta(seconds=1))
    await _ended(fresh_db, owner, at=timedelta(hours=1))

    first = await _claim(fresh_db, timedelta(seconds=10), limit=1)
    second = await _claim(fresh_db, timedelta(seconds=10), limit=10)

    assert [d.batch.id for d in first] == [early.id]
    assert [d.batch.id for d in second] == [late.id]


async def test_every_attempt_is_logged_and_the_last_outcome_is_on_the_batch(
    fresh_db: Database, owner: str
) -> None:
    owed = await _ended(fresh_db, owner)
    retry_until = T0 + timedelta(hours=1)
    attempts = [
        _attempt(owed.id, 1, None, timedelta(seconds=10)),
        _attempt(owed.id, 2, 503, timedelta(seconds=20)),
        _attempt(owed.id, 3, 200, None),
    ]

    for n, attempt in enumerate(attempts):
        async with fresh_db.write() as conn:
            await callbacks.record_callback_attempt(conn, attempt, retry_until=retry_until)
        async with fresh_db.read() as conn:
            batch = await batch_store.get_batch(conn, owner, owed.id)
        assert batch is not None
        if n == 0:
            assert batch.callback_sent_at is None, "an endpoint never reached was not sent to"
            assert (batch.callback_status_code, batch.callback_error) == (None, "attempt 1 failed")
    async with fresh_db.read() as conn:
        logged = await callbacks.list_deliveries(conn, owed.id)
        batch = await batch_store.get_batch(conn, owner, owed.id)

    assert logged == attempts
    assert not logged[0].reached_endpoint and logged[1].reached_endpoint
    assert batch is not None
    assert (batch.callback_status_code, batch.callback_error) == (200, None)
    assert batch.callback_sent_at == attempts[2].attempted_at
    assert await _claim(fresh_db, timedelta(days=1)) == []


async def test_a_failed_attempt_makes_the_callback_due_again_at_its_retry_time(
    fresh_db: Database, owner: str
) -> None:
    owed = await _ended(fresh_db, owner)
    await _claim(fresh_db, timedelta())
    retry_until = T0 + timedelta(hours=1)
    async with fresh_db.write() as conn:
        await callbacks.record_callback_attempt(
            conn, _attempt(owed.id, 1, 500, timedelta(minutes=2)), retry_until=retry_until
        )

    assert await _claim(fresh_db, timedelta(minutes=1)) == []
    (again,) = await _claim(fresh_db, timedelta(minutes=3))
    assert (again.attempts, again.retry_until) == (1, retry_until)


async def test_a_replay_sends_again_as_a_new_message_with_a_fresh_count(
    fresh_db: Database, owner: str
) -> None:
    owed = await _ended(fresh_db, owner)
    async with fresh_db.write() as conn:
        await callbacks.record_callback_attempt(conn, _attempt(owed.id, 1, 200, None), retry_until=None)
        await callbacks.schedule_replay(conn, owed.id, "replay-1", T0 + timedelta(hours=2))

    assert await _claim(fresh_db, timedelta(hours=1)) == []
    (replay,) = await _claim(fresh_db, timedelta(hours=2))
    assert (replay.webhook_id, replay.attempts, replay.retry_until) == ("replay-1", 0, None)
    async with fresh_db.read() as conn:
        assert len(await callbacks.list_deliveries(conn, owed.id)) == 1
        assert await callbacks.list_deliveries(conn, "job-missing") == []
