"""Costs written with the steps (store level): per step, summed per item and per batch, by lane.

Steps are committed here exactly as the engine commits them, some marked as having gone through the
provider-batch lane, so the discount arithmetic is checked before that lane exists end to end.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from agentbatch.domain.batches import Batch
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.lanes import Lane
from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.states import BatchStatus, StopReason
from agentbatch.domain.turn_records import ClaimedItem, Commit, StepRecord
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.store import batches as batch_store
from agentbatch.store import queue
from agentbatch.store.database import Database
from agentbatch.store.migrate import upgrade
from agentbatch.store.new_items import NewItem
from agentbatch.store.steps import apply_commits
from agentbatch.store.tables import steps

OWNER = "owner-1"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.dispose()


async def _batch(db: Database, models: list[str]) -> tuple[str, list[ClaimedItem]]:
    now = datetime.now(UTC)
    batch = Batch(new_id(IdPrefix.BATCH), OWNER, BatchStatus.CREATED, len(models), now, now)
    items = [
        NewItem(new_id(IdPrefix.AGENT), model, TurnRequest(), custom_id=f"req-{position}")
        for position, model in enumerate(models)
    ]
    async with db.write() as conn:
        await batch_store.insert_batch(conn, batch, items)
        claimed = await queue.claim_items(
            conn, "worker-1", model=None, limit=100, lease_until=now + timedelta(minutes=1), now=now
        )
    return batch.id, sorted(claimed, key=lambda item: item.id)


def _step(no: int, model: str, lane: Lane, prompt: int, completion: int, stop: bool = False) -> Commit:
    record = StepRecord(no, new_id(IdPrefix.STEP), model, "stop", prompt, completion, 1, 1, lane=lane)
    return Commit(record, stop=StopReason.END_TURN if stop else None)


async def _commit(db: Database, commits: list[tuple[ClaimedItem, Commit]]) -> list[bool]:
    async with db.write() as conn:
        return await apply_commits(conn, commits, datetime.now(UTC), PriceTable())


async def test_lane_steps_are_half_price_and_the_sums_add_up(db: Database) -> None:
    mini, haiku = "openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"
    batch_id, items = await _batch(db, [mini, haiku])
    first, second = sorted(items, key=lambda item: item.model != mini)
    accepted = await _commit(
        db,
        [
            (first, _step(1, first.model, Lane.DIRECT, 1_000, 100)),
            (first, _step(2, first.model, Lane.PROVIDER_BATCH, 2_001, 51, stop=True)),
            (second, _step(1, second.model, Lane.PROVIDER_BATCH, 333, 7, stop=True)),
        ],
    )
    assert accepted == [True, True, True]

    async with db.read() as conn:
        written = (await conn.execute(select(steps).order_by(steps.c.item_id, steps.c.step_no))).all()
        batch = await batch_store.get_batch(conn, OWNER, batch_id)
        found = await batch_store.get_item(conn, first.id)
    by_item = {row.item_id: [] for row in written}
    for row in written:
        by_item[row.item_id].append(row)
        assert row.direct_cost_nanos is not None and row.cost_nanos is not None
        expected = row.direct_cost_nanos if row.lane == "direct" else round(row.direct_cost_nanos / 2)
        assert row.cost_nanos == expected
    one, two = by_item[first.id]
    assert (one.lane, two.lane) == ("direct", "provider_batch")
    assert one.cost_nanos == 1_000 * 150 + 100 * 600
    assert two.direct_cost_nanos == 2_001 * 150 + 51 * 600 and two.cost_nanos == two.direct_cost_nanos // 2

    assert found is not None
    assert found.cost.nanos == one.cost_nanos + two.cost_nanos
    assert found.cost.direct_nanos == one.direct_cost_nanos + two.direct_cost_nanos
    assert found.cost.provider_batch_nanos == two.cost_nanos and found.cost.provider_batch_steps == 1
    assert found.custom_id == "req-0"

    assert batch is not None and batch.status is BatchStatus.COMPLETED
    assert batch.cost.nanos == sum(row.cost_nanos for row in written)
    assert batch.cost.direct_nanos == sum(row.direct_cost_nanos for row in written)
    assert batch.cost.saved_nanos == batch.cost.direct_nanos - batch.cost.nanos > 0
    assert batch.cost.direct_lane_nanos == one.cost_nanos
    assert batch.cost.provider_batch_nanos == two.cost_nanos + by_item[second.id][0].cost_nanos


async def test_an_unpriced_model_leaves_its_steps_without_cost(db: Database) -> None:
    batch_id, (item,) = await _batch(db, ["openai/gpt-unheard-of"])
    await _commit(db, [(item, _step(1, item.model, Lane.DIRECT, 10, 10, stop=True))])
    async with db.read() as conn:
        row = (await conn.execute(select(steps))).one()
        batch = await batch_store.get_batch(conn, OWNER, batch_id)
    assert row.cost_nanos is None and row.direct_cost_nanos is None
    assert batch is not None and not batch.cost.known and batch.cost.unpriced_steps == 1


async def test_a_fenced_off_step_adds_no_cost(db: Database) -> None:
    batch_id, (item,) = await _batch(db, ["openai/gpt-4o-mini"])
    commit = _step(1, item.model, Lane.DIRECT, 1_000, 0)
    assert await _commit(db, [(item, commit)]) == [True]
    assert await _commit(db, [(item, _step(1, item.model, Lane.DIRECT, 1_000, 0))]) == [False]  # replay
    async with db.read() as conn:
        batch = await batch_store.get_batch(conn, OWNER, batch_id)
    assert batch is not None and batch.cost.nanos == 150_000
