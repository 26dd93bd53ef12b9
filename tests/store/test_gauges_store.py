"""What operators read from the database: the queue gauges of ``/metrics`` (unfinished batches and their
items by status, ready items per model, running items) and the batches a transaction ended. Each test
has a database of its own: gauges count whole tables."""

from datetime import timedelta

from agentbatch.domain.batch_outcome import BatchEnd
from agentbatch.domain.states import ItemStatus, StopReason
from agentbatch.store import batch_reports
from agentbatch.store import batches as batch_store
from agentbatch.store.database import Database
from agentbatch.store.gauges import QueueGauges, read_queue_gauges
from agentbatch.store.health import database_answers
from tests.store.builders import T0, agent_ids, finish_item, set_item_status, store_batch

LATER = T0 + timedelta(minutes=2)


async def test_an_empty_database_reads_all_zero(fresh_db: Database) -> None:
    async with fresh_db.read() as conn:
        await database_answers(conn)
        assert await read_queue_gauges(conn) == QueueGauges()


async def test_gauges_count_unfinished_batches_their_items_and_ready_work_per_model(
    fresh_db: Database, owner: str
) -> None:
    shared = agent_ids(1)[0]
    mini = await store_batch(fresh_db, owner, [shared, shared, *agent_ids(1)], model="openai/mini")
    haiku = await store_batch(fresh_db, owner, agent_ids(2), model="anthropic/haiku")
    ended = await store_batch(fresh_db, owner, agent_ids(1), model="openai/mini")
    await set_item_status(fresh_db, mini.item_ids[0], ItemStatus.RUNNING)
    await finish_item(fresh_db, haiku.item_ids[0])
    await finish_item(fresh_db, ended.item_ids[0])
    async with fresh_db.write() as conn:
        await batch_store.end_batch(conn, ended.batch, BatchEnd.ITEMS_ENDED, LATER, None)
        gauges = await read_queue_gauges(conn)

    assert gauges.batches_by_status == {"created": 2}
    assert gauges.items_by_status == {"running": 1, "pending": 3, "succeeded": 1}
    assert gauges.ready_by_model == {"openai/mini": 1, "anthropic/haiku": 1}
    assert gauges.running_items == 1


async def test_the_batches_a_transaction_ended_are_reported_with_their_counts(
    fresh_db: Database, owner: str
) -> None:
    now_ended = await store_batch(fresh_db, owner, agent_ids(2))
    ended_before = await store_batch(fresh_db, owner, agent_ids(1))
    still_open = await store_batch(fresh_db, owner, agent_ids(1))
    for item_id in now_ended.item_ids[:1] + ended_before.item_ids:
        await finish_item(fresh_db, item_id)
    await finish_item(fresh_db, now_ended.item_ids[1], StopReason.LLM_API_ERROR)
    async with fresh_db.write() as conn:
        await batch_store.end_batch(conn, ended_before.batch, BatchEnd.ITEMS_ENDED, T0, None)
        await batch_store.end_batch(conn, now_ended.batch, BatchEnd.ITEMS_ENDED, LATER, None)
        reported = await batch_reports.batches_ended_at(
            conn, [now_ended.id, ended_before.id, still_open.id], LATER
        )
        assert await batch_reports.batches_ended_at(conn, [], LATER) == []

    assert [b.id for b in reported] == [now_ended.id]
    assert (reported[0].counts.succeeded, reported[0].counts.errored) == (1, 1)
