"""The provider-batch lane's bookkeeping: a submission is written before the provider is called, opened
with the provider's id, and ended with every request's outcome (requests the provider never reported are
lost and retryable); the open load per model is what quotas are checked against, across workers."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert

from agentbatch.domain.states import StopReason
from agentbatch.store import batches as batch_store
from agentbatch.store import lane_load
from agentbatch.store import provider_batches as lane
from agentbatch.store.database import Database
from agentbatch.store.lane_load import OpenLoad
from agentbatch.store.provider_batches import LaneRequest, ProviderBatchRow, StoredOutcome
from agentbatch.store.tables import workers
from tests.store.builders import T0, agent_ids, finish_item, store_batch

LATER = T0 + timedelta(minutes=5)


def _model() -> str:
    """A model name of this test alone, so open loads of other tests do not add up."""
    return f"gpt-test-{uuid.uuid4().hex[:8]}"


def _ids(count: int) -> list[str]:
    """Item ids of this test alone (a step's attempt is unique per item)."""
    return [f"batch_item-{uuid.uuid4()}" for _ in range(count)]


async def _submit(
    db: Database,
    item_ids: list[str],
    *,
    worker: str = "worker-1",
    model: str = "gpt-4o-mini",
    provider: str = "openai",
    tokens: int = 0,
    attempt: int = 1,
    batch_id: str | None = None,
) -> tuple[ProviderBatchRow, list[LaneRequest]]:
    row = ProviderBatchRow(
        id=f"pb-{uuid.uuid4()}",
        provider=provider,
        model=model,
        provider_batch_id=None,
        status=lane.SUBMITTING,
        request_count=len(item_ids),
        created_at=T0,
        estimated_tokens=tokens,
    )
    requests = [
        LaneRequest(f"{item_id}-1-{attempt}", row.id, item_id, batch_id, step_no=1, attempt=attempt)
        for item_id in item_ids
    ]
    async with db.write() as conn:
        await lane.record_submission(conn, row, worker, requests)
    return row, requests


async def _open_batches(db: Database, worker: str) -> dict[str, ProviderBatchRow]:
    async with db.read() as conn:
        return {row.id: row for row in await lane.open_batches(conn, worker)}


async def test_a_submission_is_recorded_before_the_provider_knows_it(db: Database) -> None:
    worker = f"worker-{uuid.uuid4()}"
    row, requests = await _submit(db, _ids(2), worker=worker, tokens=900, batch_id="job-1")

    found = (await _open_batches(db, worker))[row.id]
    async with db.read() as conn:
        stored = await lane.requests_of(conn, row.id)

    assert (found.status, found.provider_batch_id, found.request_count, found.estimated_tokens) == (
        lane.SUBMITTING,
        None,
        2,
        900,
    )
    assert sorted(stored, key=lambda r: r.item_id) == sorted(requests, key=lambda r: r.item_id)
    assert all(
        (r.state, r.retryable, r.result, r.error) == (lane.SUBMITTED, False, None, None) for r in stored
    )


async def test_a_submitted_batch_is_open_under_the_providers_id(db: Database) -> None:
    worker = f"worker-{uuid.uuid4()}"
    row, _ = await _submit(db, _ids(1), worker=worker)

    async with db.write() as conn:
        await lane.mark_submitted(conn, row.id, "batch_abc123", LATER)
    opened = (await _open_batches(db, worker))[row.id]
    async with db.write() as conn:
        await lane.mark_status(conn, row.id, lane.CANCELLING)
    cancelling = (await _open_batches(db, worker))[row.id]

    assert (opened.status, opened.provider_batch_id) == (lane.OPEN, "batch_abc123")
    assert cancelling.status == lane.CANCELLING
    assert await _open_batches(db, f"{worker}-other") == {}


async def test_stored_outcomes_end_the_batch_and_unreported_requests_are_lost_and_retryable(
    db: Database,
) -> None:
    worker = f"worker-{uuid.uuid4()}"
    ok, bad, silent = _ids(3)
    row, requests = await _submit(db, [ok, bad, silent], worker=worker)
    reply = {"choices": [{"message": {"content": "hi\u0000there"}}]}
    outcomes = [
        StoredOutcome(requests[0].custom_id, "succeeded", False, reply, None),
        StoredOutcome(requests[1].custom_id, "errored", True, None, "rate limited"),
    ]

    async with db.write() as conn:
        await lane.store_outcomes(conn, row.id, outcomes, LATER)
        stored = {r.item_id: r for r in await lane.requests_of(conn, row.id)}

    assert row.id not in await _open_batches(db, worker)
    assert (stored[ok].state, stored[ok].result) == (
        "succeeded",
        {"choices": [{"message": {"content": "hi\ufffdthere"}}]},
    )
    assert (stored[bad].state, stored[bad].retryable, stored[bad].error) == ("errored", True, "rate limited")
    assert (stored[silent].state, stored[silent].retryable) == (lane.LOST, True)
    assert stored[silent].error == "the provider batch ended without this request"


async def test_outcomes_arriving_twice_change_nothing_the_first_wrote(db: Database) -> None:
    row, requests = await _submit(db, _ids(1))
    first = [StoredOutcome(requests[0].custom_id, "succeeded", False, {"n": 1}, None)]
    second = [StoredOutcome(requests[0].custom_id, "errored", True, None, "late duplicate")]

    async with db.write() as conn:
        await lane.store_outcomes(conn, row.id, first, LATER)
        await lane.store_outcomes(conn, row.id, second, LATER)
        (stored,) = await lane.requests_of(conn, row.id)

    assert (stored.state, stored.result, stored.error) == ("succeeded", {"n": 1}, None)


async def test_an_unsent_submission_ends_with_its_requests_lost(db: Database) -> None:
    worker = f"worker-{uuid.uuid4()}"
    row, _ = await _submit(db, _ids(2), worker=worker)

    async with db.write() as conn:
        await lane.end_unsent(conn, row.id, "refused: too many tokens", LATER, retryable=False)
        stored = await lane.requests_of(conn, row.id)

    assert {(r.state, r.retryable, r.error) for r in stored} == {
        (lane.LOST, False, "refused: too many tokens")
    }
    assert row.id not in await _open_batches(db, worker)


async def test_the_latest_attempt_of_a_step_is_the_one_found(db: Database) -> None:
    (item,) = _ids(1)
    await _submit(db, [item], attempt=1)
    _, (second,) = await _submit(db, [item], attempt=2)

    async with db.read() as conn:
        latest = await lane.latest_request(conn, item, step_no=1)
        never = await lane.latest_request(conn, item, step_no=2)

    assert latest == second
    assert never is None


async def test_the_open_load_of_a_model_counts_every_workers_unfinished_batches(db: Database) -> None:
    model = _model()
    first, _ = await _submit(db, _ids(2), model=model, tokens=100, worker="worker-1")
    await _submit(db, _ids(1), model=model, tokens=50, worker="worker-2")
    await _submit(db, _ids(1), model=model, provider="anthropic", tokens=7)
    await _submit(db, _ids(1), model=_model(), tokens=1_000)

    async with db.read() as conn:
        before = await lane_load.open_load(conn, "openai", model)
    async with db.write() as conn:
        await lane_load.lock_model(conn, "openai", model)
        await lane.end_unsent(conn, first.id, "gone", LATER, retryable=True)
    async with db.read() as conn:
        after = await lane_load.open_load(conn, "openai", model)
        nothing = await lane_load.open_load(conn, "openai", _model())

    assert before == OpenLoad(requests=3, tokens=150)
    assert after == OpenLoad(requests=1, tokens=50)
    assert nothing == OpenLoad()


async def _register(db: Database, worker: str, heartbeat: datetime) -> None:
    async with db.write() as conn:
        await conn.execute(
            insert(workers).values(
                id=worker, hostname="host", pid=1, started_at=heartbeat, heartbeat_at=heartbeat
            )
        )


async def test_a_worker_adopts_only_the_open_batches_of_workers_that_are_gone(fresh_db: Database) -> None:
    await _register(fresh_db, "worker-alive", LATER)
    await _register(fresh_db, "worker-silent", T0)
    alive, _ = await _submit(fresh_db, _ids(1), worker="worker-alive")
    orphan, _ = await _submit(fresh_db, _ids(1), worker="worker-silent")
    crashed, _ = await _submit(fresh_db, _ids(1), worker="worker-unregistered")
    ended, _ = await _submit(fresh_db, _ids(1), worker="worker-silent")
    async with fresh_db.write() as conn:
        await lane.end_unsent(conn, ended.id, "gone", LATER, retryable=True)
        adopted = await lane.adopt_orphans(conn, "worker-new", alive_since=LATER - timedelta(seconds=30))

    assert adopted == 2
    assert set(await _open_batches(fresh_db, "worker-new")) == {orphan.id, crashed.id}
    assert set(await _open_batches(fresh_db, "worker-alive")) == {alive.id}


async def test_the_only_process_of_a_database_adopts_every_open_batch(fresh_db: Database) -> None:
    await _register(fresh_db, "worker-alive", LATER)
    first, _ = await _submit(fresh_db, _ids(1), worker="worker-alive")
    mine, _ = await _submit(fresh_db, _ids(1), worker="worker-new")
    async with fresh_db.write() as conn:
        assert await lane.adopt_orphans(conn, "worker-new", alive_since=None) == 1

    assert set(await _open_batches(fresh_db, "worker-new")) == {first.id, mine.id}


async def test_a_provider_batch_is_still_needed_while_any_of_its_items_is_unfinished(
    db: Database, owner: str
) -> None:
    stored = await store_batch(db, owner, agent_ids(2))
    row, _ = await _submit(db, stored.item_ids, batch_id=stored.id)

    async with db.read() as conn:
        assert await lane.only_finished_items(conn, row.id) is False
    await finish_item(db, stored.item_ids[0])
    async with db.read() as conn:
        assert await lane.only_finished_items(conn, row.id) is False
    await finish_item(db, stored.item_ids[1], StopReason.CANCELLED)
    async with db.read() as conn:
        assert await lane.only_finished_items(conn, row.id) is True


async def test_a_resubmitted_step_counts_as_another_attempt_of_its_item(db: Database, owner: str) -> None:
    stored = await store_batch(db, owner, agent_ids(1))

    async with db.write() as conn:
        await lane.count_attempt(conn, stored.item_ids[0])
        await lane.count_attempt(conn, stored.item_ids[0])
        item = await batch_store.get_item(conn, stored.item_ids[0])

    assert item is not None and item.attempts == 2


async def test_each_batch_says_how_its_steps_are_dispatched_and_when_its_window_ends(
    db: Database, owner: str
) -> None:
    windowed = await store_batch(db, owner, agent_ids(1), expires_at=LATER)
    plain = await store_batch(db, owner, agent_ids(1))

    async with db.read() as conn:
        found = await lane.dispatch_of(conn, [windowed.id, plain.id, plain.id, "job-missing"])
        assert await lane.dispatch_of(conn, []) == {}

    assert found == {windowed.id: ("direct", LATER), plain.id: ("direct", None)}
