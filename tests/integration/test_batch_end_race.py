"""Two workers ending a batch's last two items in concurrent transactions: the batch still ends.

Under READ COMMITTED each transaction used to see the other's item still running, so neither marked the
batch completed and it stayed ``running`` for good with every item done (seen in CI with two workers on
PostgreSQL). The batch row is now locked before the check, so the second transaction waits for the
first and then sees its item ended."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update

from agentbatch.domain.batches import Batch
from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason
from agentbatch.domain.turn_records import ClaimedItem, Commit
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.server import prepare_database
from agentbatch.store import queue
from agentbatch.store.agents import insert_agent
from agentbatch.store.batches import insert_batch
from agentbatch.store.database import Database
from agentbatch.store.new_items import NewItem
from agentbatch.store.steps import apply_commits, complete_stranded_batches
from agentbatch.store.tables import batch_items, batches
from tests.store.builders import agent
from tests.support.polling import wait_for_async


async def _batch_with_two_claimed_items(db: Database) -> tuple[ClaimedItem, ClaimedItem]:
    now = datetime.now(UTC)
    async with db.write() as conn:
        agents = [agent("owner", name=f"a{n}", model="openai/m") for n in range(2)]
        for new in agents:
            await insert_agent(conn, new)
        batch = Batch(
            id="batch-1",
            owner_id="owner",
            status=BatchStatus.CREATED,
            request_count=2,
            created_at=now,
            updated_at=now,
        )
        items = [NewItem(new.id, "openai/m", TurnRequest(), id=f"item-{n}") for n, new in enumerate(agents)]
        await insert_batch(conn, batch, items)
    claimed: list[ClaimedItem] = []
    for worker in ("worker-a", "worker-b"):
        async with db.write() as conn:
            claimed += await queue.claim_items(
                conn, worker, model=None, limit=1, lease_until=now + timedelta(seconds=60), now=now
            )
    assert len(claimed) == 2
    return claimed[0], claimed[1]


async def _waiting_on_a_lock(db: Database) -> bool:
    async with db.read() as conn:
        waiting = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        return bool(waiting.scalar_one())


async def test_concurrent_ends_of_the_last_items_end_the_batch(database_url: str) -> None:
    db = Database(database_url)
    try:
        await prepare_database(db)
        first, second = await _batch_with_two_claimed_items(db)
        done = Commit(None, [], [], StopReason.END_TURN)

        async def end_second() -> list[bool]:
            async with db.write() as conn:
                return await apply_commits(conn, [(second, done)], datetime.now(UTC))

        async with db.write() as conn:
            assert await apply_commits(conn, [(first, done)], datetime.now(UTC)) == [True]
            if database_url.startswith("postgresql"):
                # The second transaction runs while the first is still open (on SQLite the
                # writers take turns, so it simply runs after).
                racing = asyncio.create_task(end_second())
                await wait_for_async(
                    lambda: _racing_settled(racing, db),
                    what="the second transaction to run or wait on a lock",
                )
            else:
                racing = None
        if racing is None:
            racing = asyncio.create_task(end_second())
        assert await racing == [True]

        async with db.read() as conn:
            status = (
                await conn.execute(select(batches.c.status).where(batches.c.id == "batch-1"))
            ).scalar_one()
        assert status == BatchStatus.COMPLETED.value, "every item ended, so the batch has too"
    finally:
        await db.dispose()


async def _racing_settled(racing: "asyncio.Task[list[bool]]", db: Database) -> bool:
    return racing.done() or await _waiting_on_a_lock(db)


async def test_the_sweep_ends_a_batch_left_unfinished_with_every_item_ended(database_url: str) -> None:
    db = Database(database_url)
    try:
        await prepare_database(db)
        await _batch_with_two_claimed_items(db)
        async with db.write() as conn:
            # Both items end without the batch-ending check, as if it had been missed.
            await conn.execute(
                update(batch_items).values(
                    status=ItemStatus.SUCCEEDED.value, lease_owner=None, lease_expires_at=None
                )
            )
            assert await complete_stranded_batches(conn, datetime.now(UTC)) == ["batch-1"]
            assert await complete_stranded_batches(conn, datetime.now(UTC)) == [], "ended once"
        async with db.read() as conn:
            status = (
                await conn.execute(select(batches.c.status).where(batches.c.id == "batch-1"))
            ).scalar_one()
        assert status == BatchStatus.COMPLETED.value
    finally:
        await db.dispose()


async def test_the_sweep_leaves_a_batch_with_an_item_still_running(database_url: str) -> None:
    db = Database(database_url)
    try:
        await prepare_database(db)
        first, _ = await _batch_with_two_claimed_items(db)
        async with db.write() as conn:
            assert await apply_commits(
                conn, [(first, Commit(None, [], [], StopReason.END_TURN))], datetime.now(UTC)
            )
            assert await complete_stranded_batches(conn, datetime.now(UTC)) == []
    finally:
        await db.dispose()
