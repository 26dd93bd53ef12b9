"""Leases are renewed for exactly the items a live turn holds: an item of a live worker whose turn is
gone is not kept alive, so its lease expires and the sweep hands it on."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from agentbatch.domain.states import ItemStatus
from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.server import prepare_database
from agentbatch.store import queue
from agentbatch.store.agents import insert_agent
from agentbatch.store.database import Connection, Database
from agentbatch.store.new_items import NewItem
from agentbatch.store.sql_work_queue import SqlWorkQueue
from agentbatch.store.steps import settle_failed_turn
from agentbatch.store.tables import batch_items
from tests.store.builders import agent


async def _claimed_items(db: Database, worker: str, count: int) -> list[ClaimedItem]:
    now = datetime.now(UTC)
    async with db.write() as conn:
        items = []
        for n in range(count):
            new = agent("owner", name=f"a{n}", model="openai/m")
            await insert_agent(conn, new)
            items.append(NewItem(new.id, "openai/m", TurnRequest(), id=f"item-{n}"))
        await queue.insert_items(conn, None, "owner", items, now)
        claimed = await queue.claim_items(
            conn, worker, model=None, limit=count, lease_until=now + timedelta(seconds=5), now=now
        )
    return claimed


async def _lease_ends(db: Database) -> dict[str, datetime | None]:
    async with db.read() as conn:
        rows = await conn.execute(select(batch_items.c.id, batch_items.c.lease_expires_at))
        return {row.id: row.lease_expires_at for row in rows}


async def test_only_items_with_a_live_turn_are_renewed(database_url: str) -> None:
    db = Database(database_url)
    try:
        await prepare_database(db)
        keeper = LeaseKeeper(SqlWorkQueue(db), "worker-1", lease_seconds=600)
        held, orphaned = [item.id for item in await _claimed_items(db, "worker-1", 2)]
        before = await _lease_ends(db)
        turn = asyncio.create_task(asyncio.sleep(3600))
        keeper.track(held, None, turn)  # a live turn holds `held`; nothing holds `orphaned` any more

        await keeper.renew()

        after = await _lease_ends(db)
        assert after[held] is not None and before[held] is not None and after[held] > before[held]
        assert after[orphaned] == before[orphaned]  # left to expire, not kept alive by a live worker
        assert not turn.cancelled()
        turn.cancel()
    finally:
        await db.dispose()


async def test_a_failed_turn_hands_its_item_back_then_errors_it(database_url: str) -> None:
    db = Database(database_url)
    try:
        await prepare_database(db)
        now = datetime.now(UTC)
        [held] = await _claimed_items(db, "worker-1", 1)
        item_id = held.id
        async with db.write() as conn:
            assert await settle_failed_turn(conn, held, "boom", 2, now) is ItemStatus.PENDING
        async with db.write() as conn:
            again = await _reclaim(conn, "worker-1", now)
        assert [i.id for i in again] == [item_id]  # ready again at once: its agent's head
        async with db.write() as conn:
            assert await settle_failed_turn(conn, held, "boom", 2, now) is ItemStatus.ERRORED
            assert await queue.item_state(conn, item_id) == (ItemStatus.ERRORED, False)
            # A turn that is no longer the holder cannot settle anything.
            assert await settle_failed_turn(conn, held, "boom", 2, now) is None
    finally:
        await db.dispose()


async def _reclaim(conn: Connection, worker: str, now: datetime) -> list[ClaimedItem]:
    lease_until = now + timedelta(seconds=5)
    return await queue.claim_items(conn, worker, model=None, limit=10, lease_until=lease_until, now=now)
