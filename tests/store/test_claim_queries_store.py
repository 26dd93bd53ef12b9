"""The queue's hot reads. The claim (which models have claimable items, which items to lease) runs several
times a second for as long as a batch has work, so it must seek through ``ix_batch_items_claimable`` and
not read every item: a claim of 100 items from 100,000 pending ones took 27 ms while SQLAlchemy's
``ready = 1`` kept SQLite off that index, and 0.2 ms through it. An agent's reads (is it busy, which item is
its next, what is it running) run at every submission and every turn's end, so they must seek through the
agent indexes that hold unfinished items only: read through the whole-history index, promoting the next
items of 200 agents with 300 queued items each took 123 ms, and 0.5 ms through the head index."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection as SyncConnection

from agentbatch.domain.states import ItemStatus
from agentbatch.store import agent_runs, bound_lists, queue
from agentbatch.store.database import Database
from agentbatch.store.tables import batch_items
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


async def test_an_agents_reads_seek_its_head_and_its_unfinished_items_only(
    fresh_db: Database, owner: str
) -> None:
    if not fresh_db.is_sqlite:
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    agents = agent_ids(20)
    for _ in range(3):  # a history, then a queue, per agent
        await store_batch(fresh_db, owner, agents)
    async with fresh_db.write() as conn:
        sync = await conn.get_raw_connection()
        with _statements(conn.sync_connection) as seen:
            busy = await queue.agents_with_unfinished_items(conn, agents)
            await queue.promote_next_items(conn, agents)
            await agent_runs.cancel_current_turns(conn, agents[0], None, T0)
            await agent_runs.reset_history(conn, agents[1])
            await queue.cancel_items_of_agent(conn, agents[2], "deleted", T0)
        plans: list[str] = []
        for statement, parameters in seen:
            cursor = await sync.driver_connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)  # type: ignore[union-attr]
            plans.extend(row[3] for row in await cursor.fetchall())

    assert busy == set(agents)
    reads_of_items = [step for step in plans if "batch_items" in step]
    assert [step for step in reads_of_items if step.startswith("SCAN batch_items")] == [], plans
    by_agent = [step for step in reads_of_items if "(agent_id=?" in step]
    assert by_agent, plans
    assert all(
        "ix_batch_items_agent_head" in step or "ix_batch_items_agent_unfinished" in step for step in by_agent
    )


async def test_an_agents_next_item_is_its_oldest_unfinished_one_after_any_history(
    db: Database, owner: str
) -> None:
    agent, other = agent_ids(2)
    ended = await store_batch(db, owner, [agent, agent, other])
    queued = await store_batch(db, owner, [agent, other, agent])
    for item_id in ended.item_ids:
        await finish_item(db, item_id)

    async with db.write() as conn:
        await queue.promote_next_items(conn, [agent, other])
        assert await queue.agents_with_unfinished_items(conn, [agent, other]) == {agent, other}
        await queue.promote_next_items(conn, [agent, other])  # a head already: nothing changes

    async with db.read() as conn:
        rows = await conn.execute(
            select(batch_items.c.ready)
            .where(batch_items.c.id.in_(queued.item_ids))
            .order_by(batch_items.c.seq)
        )
        assert [bool(row.ready) for row in rows] == [True, True, False]


async def test_promotion_of_more_agents_than_one_statement_takes_promotes_them_all(
    db: Database, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bound_lists, "BOUND_PART", 2)  # as 5,000 of 100,000 agents: several statements
    agents = agent_ids(5)
    ended = await store_batch(db, owner, agents)
    queued = await store_batch(db, owner, agents)
    for item_id in ended.item_ids:
        await finish_item(db, item_id)

    async with db.write() as conn:
        await queue.promote_next_items(conn, agents)
        assert await queue.agents_with_unfinished_items(conn, agents) == set(agents)
    async with db.read() as conn:
        rows = await conn.execute(select(batch_items.c.ready).where(batch_items.c.id.in_(queued.item_ids)))
        assert [bool(ready) for (ready,) in rows] == [True] * 5


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
