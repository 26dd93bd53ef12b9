"""The claim's reads: which models have claimable items, and which items to lease. They run several times
a second for as long as a batch has work, so they must seek through ``ix_batch_items_claimable`` and not
read every item: a claim of 100 items from 100,000 pending ones took 27 ms while SQLAlchemy's
``ready = 1`` kept SQLite off that index, and 0.2 ms through it."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection

from agentbatch.domain.states import ItemStatus
from agentbatch.store import queue
from agentbatch.store.database import Database
from tests.store.builders import T0, agent_ids, finish_item, set_item_status, store_batch

LEASE = T0 + timedelta(minutes=5)


async def test_claimable_models_are_those_with_a_pending_item_next_in_line(
    fresh_db: Database, owner: str
) -> None:
    # One model per case: ready work; ready work behind a running item of another agent; work that is
    # only queued behind its agent's own earlier item; work that is running; work that has ended.
    ready = await store_batch(fresh_db, owner, agent_ids(2), model="anthropic/claude-haiku-4-5")
    await store_batch(fresh_db, owner, agent_ids(1), model="openai/gpt-4o-mini")
    shared = agent_ids(1)
    await store_batch(fresh_db, owner, shared, model="openai/gpt-4.1")
    await store_batch(fresh_db, owner, shared, model="openai/o4-mini")  # queued behind gpt-4.1's item
    running = await store_batch(fresh_db, owner, agent_ids(1), model="google/gemini")
    await set_item_status(fresh_db, running.item_ids[0], ItemStatus.RUNNING)
    ended = await store_batch(fresh_db, owner, agent_ids(1), model="mistral/small")
    await finish_item(fresh_db, ended.item_ids[0])
    await set_item_status(fresh_db, ready.item_ids[0], ItemStatus.RUNNING)

    async with fresh_db.read() as conn:
        models = await queue.claimable_models(conn)

    assert sorted(models) == ["anthropic/claude-haiku-4-5", "openai/gpt-4.1", "openai/gpt-4o-mini"]


async def test_an_empty_queue_has_no_claimable_models(fresh_db: Database, owner: str) -> None:
    ended = await store_batch(fresh_db, owner, agent_ids(1))
    await finish_item(fresh_db, ended.item_ids[0])
    async with fresh_db.read() as conn:
        assert await queue.claimable_models(conn) == []


async def test_the_claim_reads_items_only_through_indexes(fresh_db: Database, owner: str) -> None:
    if not fresh_db.is_sqlite:
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    await store_batch(fresh_db, owner, agent_ids(300), model="openai/gpt-4o-mini")
    await store_batch(fresh_db, owner, agent_ids(300), model="anthropic/claude-haiku-4-5")

    async with fresh_db.write() as conn:
        sync = await conn.get_raw_connection()
        with _statements(conn.sync_connection) as seen:
            models = await queue.claimable_models(conn)
            for model in models:
                claimed = await queue.claim_items(
                    conn, "worker-1", model=model, limit=10, lease_until=LEASE, now=T0
                )
                assert len(claimed) == 10
        plans: list[tuple[str, list[str]]] = []
        for statement, parameters in seen:
            cursor = await sync.driver_connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)  # type: ignore[union-attr]
            plans.append((statement, [row[3] for row in await cursor.fetchall()]))

    assert sorted(models) == ["anthropic/claude-haiku-4-5", "openai/gpt-4o-mini"]
    reads_of_items = [
        (statement, step) for statement, steps in plans for step in steps if "batch_items" in step
    ]
    assert reads_of_items, plans
    full_scans = [
        (statement, step) for statement, step in reads_of_items if step.startswith("SCAN batch_items")
    ]
    assert full_scans == [], full_scans


@contextmanager
def _statements(conn: SyncConnection | None) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT and UPDATE statements (with their parameters) run on ``conn`` inside the block."""
    assert conn is not None
    seen: list[tuple[str, Any]] = []

    def record(
        _conn: SyncConnection, _cursor: object, statement: str, parameters: Any, _context: object, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH")):
            seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", record)
