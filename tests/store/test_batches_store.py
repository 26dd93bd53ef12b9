"""Batches in the store: a batch and its items written in one go, read back with request counts, usage
and cost summed per batch for a whole page at once, listed per owner, and ended by the rule of its
items' outcomes (once only)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from agentbatch.domain.batch_outcome import BatchEnd
from agentbatch.domain.batches import Batch, Usage
from agentbatch.domain.paging import PageRequest
from agentbatch.domain.pricing import CostTotals
from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason
from agentbatch.store import batches as batch_store
from agentbatch.store.database import Database
from agentbatch.store.tables import batch_items
from tests.store.builders import T0, agent_ids, at, finish_item, set_item_status, store_batch

LATER = T0 + timedelta(minutes=3)


async def _batch(db: Database, owner: str, batch_id: str) -> Batch:
    async with db.read() as conn:
        found = await batch_store.get_batch(conn, owner, batch_id)
    assert found is not None
    return found


async def _ready(db: Database, item_ids: list[str]) -> list[bool]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(batch_items.c.id, batch_items.c.ready).where(batch_items.c.id.in_(item_ids))
        )
        by_id = {row.id: bool(row.ready) for row in rows}
    return [by_id[item_id] for item_id in item_ids]


async def test_a_new_batch_reads_back_with_its_items_pending(db: Database, owner: str) -> None:
    stored = await store_batch(
        db, owner, agent_ids(3), callback_url="https://example.test/hook", expires_at=LATER
    )

    found = await _batch(db, owner, stored.id)

    assert (found.status, found.request_count, found.metadata) == (BatchStatus.CREATED, 3, {"suite": "store"})
    assert (found.callback_url, found.expires_at, found.created_at) == (
        "https://example.test/hook",
        LATER,
        T0,
    )
    assert (found.counts.total, found.counts.pending, found.counts.succeeded) == (3, 3, 0)
    assert found.usage == Usage() and found.cost == CostTotals()
    assert found.completed_at is None and found.stop_reason is None


async def test_a_batch_is_invisible_to_another_owner(db: Database, owner: str) -> None:
    stored = await store_batch(db, owner, agent_ids(1))

    async with db.read() as conn:
        assert await batch_store.get_batch(conn, f"{owner}-other", stored.id) is None
        assert await batch_store.list_batches(conn, f"{owner}-other", PageRequest()) == []


async def test_the_batch_names_its_agent_only_when_every_request_addresses_the_same_one(
    db: Database, owner: str
) -> None:
    one, other = agent_ids(2)
    single = await store_batch(db, owner, [one, one, one])
    mixed = await store_batch(db, owner, [one, other])

    assert (await _batch(db, owner, single.id)).agent_id == one
    assert (await _batch(db, owner, mixed.id)).agent_id is None


async def test_only_an_agents_first_unfinished_item_is_ready(db: Database, owner: str) -> None:
    busy, free = agent_ids(2)
    first = await store_batch(db, owner, [busy, free, busy])
    second = await store_batch(db, owner, [busy, free])

    assert await _ready(db, first.item_ids) == [True, True, False]
    assert await _ready(db, second.item_ids) == [False, False]


async def test_counts_usage_and_cost_are_summed_per_batch_across_a_page(db: Database, owner: str) -> None:
    first = await store_batch(db, owner, agent_ids(3), created_at=at(1))
    second = await store_batch(db, owner, agent_ids(2), created_at=at(2))
    await finish_item(
        db,
        first.item_ids[0],
        prompt_tokens=100,
        completion_tokens=10,
        steps=2,
        cost_nanos=5,
        direct_cost_nanos=7,
    )
    await finish_item(
        db,
        first.item_ids[1],
        StopReason.LLM_API_ERROR,
        prompt_tokens=50,
        completion_tokens=0,
        steps=1,
        cost_nanos=1,
        direct_cost_nanos=1,
    )
    await set_item_status(db, first.item_ids[2], ItemStatus.RUNNING)
    await finish_item(db, second.item_ids[0], StopReason.CANCELLED, steps=0)

    async with db.read() as conn:
        page = await batch_store.list_batches(conn, owner, PageRequest(descending=False))

    assert [b.id for b in page] == [first.id, second.id]
    one, two = page
    assert (one.counts.total, one.counts.succeeded, one.counts.errored, one.counts.running) == (3, 1, 1, 1)
    assert one.usage == Usage(prompt_tokens=150, completion_tokens=10, step_count=3)
    assert one.usage.total_tokens == 160
    assert one.cost == CostTotals(nanos=6, direct_nanos=8)
    assert (two.counts.total, two.counts.cancelled, two.counts.pending) == (2, 1, 1)
    assert two.usage == Usage() and two.cost == CostTotals()


async def test_batches_filter_by_status_and_page_exactly(db: Database, owner: str) -> None:
    made = [await store_batch(db, owner, agent_ids(1), created_at=at(n)) for n in range(5)]
    for ended in made[1::2]:
        await finish_item(db, ended.item_ids[0])
        async with db.write() as conn:
            batch = await batch_store.get_batch(conn, owner, ended.id)
            assert batch is not None
            await batch_store.end_batch(conn, batch, BatchEnd.ITEMS_ENDED, LATER, None)

    async with db.read() as conn:
        done = await batch_store.list_batches(conn, owner, PageRequest(), statuses=[BatchStatus.COMPLETED])
        open_ = await batch_store.list_batches(
            conn, owner, PageRequest(descending=False), statuses=[BatchStatus.CREATED, BatchStatus.RUNNING]
        )
        after = await batch_store.list_batches(
            conn, owner, PageRequest(after=made[2].id, descending=False, limit=1)
        )
        before = await batch_store.list_batches(conn, owner, PageRequest(before=made[2].id, descending=False))

    assert [b.id for b in done] == [made[3].id, made[1].id]
    assert [b.id for b in open_] == [made[0].id, made[2].id, made[4].id]
    assert [b.id for b in after] == [made[3].id]
    assert [b.id for b in before] == [made[0].id, made[1].id]


async def test_items_list_in_submission_order_with_their_custom_ids(db: Database, owner: str) -> None:
    stored = await store_batch(db, owner, agent_ids(4), custom_ids=["d", "c", None, "a"])

    async with db.read() as conn:
        first = await batch_store.list_items(conn, stored.id, PageRequest(descending=False, limit=3))
        rest = await batch_store.list_items(
            conn, stored.id, PageRequest(after=first[-1].id, descending=False)
        )
        newest = await batch_store.list_items(conn, stored.id, PageRequest(limit=1))

    items = first + rest
    assert [i.id for i in items] == stored.item_ids
    assert [i.position for i in items] == [0, 1, 2, 3]
    assert [i.custom_id for i in items] == ["d", "c", None, "a"]
    assert [i.id for i in newest] == [stored.item_ids[-1]]


async def test_an_item_reads_back_with_its_outcome(db: Database, owner: str) -> None:
    stored = await store_batch(db, owner, agent_ids(1), custom_ids=["only"])
    await finish_item(
        db,
        stored.item_ids[0],
        StopReason.MAX_STEPS,
        prompt_tokens=9,
        completion_tokens=4,
        steps=3,
        cost_nanos=12,
        direct_cost_nanos=20,
        completed_at=LATER,
    )

    async with db.read() as conn:
        item = await batch_store.get_item(conn, stored.item_ids[0])
        missing = await batch_store.get_item(conn, "batch_item-missing")

    assert missing is None
    assert item is not None
    assert (item.batch_id, item.status, item.stop_reason) == (stored.id, ItemStatus.SUCCEEDED, "max_steps")
    assert (item.prompt_tokens, item.completion_tokens, item.step_count) == (9, 4, 3)
    assert (item.cost.nanos, item.cost.direct_nanos, item.cost.saved_nanos) == (12, 20, 8)
    assert (item.custom_id, item.completed_at) == ("only", LATER)


async def test_ending_items_ends_only_the_unfinished_and_frees_each_agents_next_item(
    db: Database, owner: str
) -> None:
    shared, other = agent_ids(2)
    cancelled = await store_batch(db, owner, [shared, shared, other])
    waiting = await store_batch(db, owner, [shared, other])
    await finish_item(db, cancelled.item_ids[0])
    assert await _ready(db, waiting.item_ids) == [False, False]

    async with db.write() as conn:
        ended = await batch_store.end_items(
            conn, cancelled.id, ItemStatus.CANCELLED, StopReason.CANCELLED, "cancelled by the caller", LATER
        )
    async with db.read() as conn:
        items = await batch_store.list_items(conn, cancelled.id, PageRequest(descending=False))

    assert ended == 2
    assert [(i.status, i.stop_reason) for i in items] == [
        (ItemStatus.SUCCEEDED, "end_turn"),
        (ItemStatus.CANCELLED, "cancelled"),
        (ItemStatus.CANCELLED, "cancelled"),
    ]
    assert [i.error for i in items] == [None, "cancelled by the caller", "cancelled by the caller"]
    assert items[1].completed_at == LATER
    assert await _ready(db, waiting.item_ids) == [True, True]


@pytest.mark.parametrize(
    ("stops", "end", "status", "reason"),
    [
        ([StopReason.END_TURN, StopReason.END_TURN], BatchEnd.ITEMS_ENDED, BatchStatus.COMPLETED, "end_turn"),
        ([StopReason.END_TURN, StopReason.LLM_API_ERROR], BatchEnd.ITEMS_ENDED, BatchStatus.COMPLETED, None),
        (
            [StopReason.LLM_API_ERROR, StopReason.LLM_API_ERROR],
            BatchEnd.ITEMS_ENDED,
            BatchStatus.FAILED,
            "llm_api_error",
        ),
        (
            [StopReason.CANCELLED, StopReason.CANCELLED],
            BatchEnd.ITEMS_ENDED,
            BatchStatus.CANCELLED,
            "cancelled",
        ),
        ([StopReason.END_TURN, StopReason.CANCELLED], BatchEnd.CANCEL, BatchStatus.CANCELLED, "cancelled"),
        ([StopReason.END_TURN, StopReason.END_TURN], BatchEnd.EXPIRY, BatchStatus.EXPIRED, "end_turn"),
    ],
)
async def test_a_batch_ends_as_its_items_outcomes_say(
    db: Database, owner: str, stops: list[StopReason], end: BatchEnd, status: BatchStatus, reason: str | None
) -> None:
    stored = await store_batch(db, owner, agent_ids(len(stops)))
    for item_id, stop in zip(stored.item_ids, stops, strict=True):
        await finish_item(db, item_id, stop)

    async with db.write() as conn:
        assert await batch_store.end_batch(conn, stored.batch, end, LATER, "user-who") is True
    found = await _batch(db, owner, stored.id)

    assert (found.status, found.stop_reason) == (status, reason)
    assert (found.completed_at, found.updated_at, found.last_updated_by_id) == (LATER, LATER, "user-who")
    assert found.total_duration_ns == 3 * 60 * 10**9


async def test_a_batch_ends_once(db: Database, owner: str) -> None:
    stored = await store_batch(db, owner, agent_ids(1))
    await finish_item(db, stored.item_ids[0], StopReason.LLM_API_ERROR)

    async with db.write() as conn:
        assert await batch_store.end_batch(conn, stored.batch, BatchEnd.ITEMS_ENDED, LATER, None) is True
        assert (
            await batch_store.end_batch(conn, stored.batch, BatchEnd.CANCEL, LATER + timedelta(hours=1), None)
            is False
        )
    found = await _batch(db, owner, stored.id)

    assert (found.status, found.completed_at) == (BatchStatus.FAILED, LATER)


async def test_item_outcomes_tally_every_status_and_reason(db: Database, owner: str) -> None:
    stored = await store_batch(db, owner, agent_ids(4))
    await finish_item(db, stored.item_ids[0], StopReason.END_TURN)
    await finish_item(db, stored.item_ids[1], StopReason.END_TURN)
    await finish_item(db, stored.item_ids[2], StopReason.TOOL_RULE)

    async with db.read() as conn:
        outcomes = await batch_store.item_outcomes(conn, [stored.id, "job-empty"])
        assert await batch_store.item_outcomes(conn, []) == {}

    assert dict(outcomes[stored.id].counts) == {
        (ItemStatus.SUCCEEDED, StopReason.END_TURN): 2,
        (ItemStatus.SUCCEEDED, StopReason.TOOL_RULE): 1,
        (ItemStatus.PENDING, None): 1,
    }
    assert dict(outcomes["job-empty"].counts) == {}


async def test_a_batch_past_its_window_expires_with_its_unfinished_items(
    fresh_db: Database, owner: str
) -> None:
    window = timedelta(minutes=30)
    due = await store_batch(fresh_db, owner, agent_ids(3), expires_at=T0 + window)
    not_yet = await store_batch(fresh_db, owner, agent_ids(1), expires_at=T0 + 2 * window)
    no_window = await store_batch(fresh_db, owner, agent_ids(1))
    await finish_item(fresh_db, due.item_ids[0])
    now = T0 + window + timedelta(seconds=1)

    async with fresh_db.write() as conn:
        expired = await batch_store.expire_due_batches(conn, now)
    async with fresh_db.write() as conn:
        again = await batch_store.expire_due_batches(conn, now)
        items = await batch_store.list_items(conn, due.id, PageRequest(descending=False))

    assert expired == [(due.id, 2)] and again == []
    assert (await _batch(fresh_db, owner, due.id)).status is BatchStatus.EXPIRED
    assert [i.status for i in items] == [ItemStatus.SUCCEEDED, ItemStatus.EXPIRED, ItemStatus.EXPIRED]
    assert items[1].error is not None and "30 min" in items[1].error
    assert (await _batch(fresh_db, owner, not_yet.id)).status is BatchStatus.CREATED
    assert (await _batch(fresh_db, owner, no_window.id)).status is BatchStatus.CREATED


async def test_a_batch_addressed_to_20000_agents_can_be_cancelled(db: Database, owner: str) -> None:
    # Promotion named every agent of the batch twice in one statement: 40,000 bound values, beyond
    # asyncpg's 32,767 — the cancel (and the expiry) failed on PostgreSQL. Now once, 5,000 a statement.
    stored = await store_batch(db, owner, agent_ids(20_000))

    async with db.write() as conn:
        ended = await batch_store.end_items(
            conn, stored.id, ItemStatus.CANCELLED, StopReason.CANCELLED, "cancelled by the caller", LATER
        )
        batch = await batch_store.get_batch(conn, owner, stored.id)

    assert ended == 20_000
    assert batch is not None and batch.counts.cancelled == 20_000
