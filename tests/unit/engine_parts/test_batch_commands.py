"""Submitting and cancelling batches: accepted whole or refused whole, naming what was wrong."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from agentbatch.domain.errors import IdempotencyKeyReused, InvalidRequest, NotFound, StateConflict
from agentbatch.domain.states import BatchStatus
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.engine import batch_commands
from agentbatch.engine.agent_commands import AgentCommands, NewAgent
from agentbatch.engine.batch_commands import (
    BatchCommands,
    BatchRequests,
    IdempotencyKey,
    parse_completion_window,
)
from agentbatch.engine.signals import EngineSignals
from agentbatch.store import tables
from agentbatch.store.database import Database
from tests.unit.engine_parts.conftest import OWNER, new_agent, rows, turn


@pytest.mark.parametrize(
    ("window", "seconds"), [("30m", 1800), ("24h", 86_400), ("3600s", 3600), (" 2d ", 172_800)]
)
def test_completion_windows_read_as_a_number_and_a_unit(window: str, seconds: int) -> None:
    assert parse_completion_window(window) == timedelta(seconds=seconds)


@pytest.mark.parametrize("window", ["", "24", "h", "1.5h", "10w", "-5m", "24 hours"])
def test_a_completion_window_of_another_shape_is_refused_by_example(window: str) -> None:
    with pytest.raises(InvalidRequest, match=r"must look like '30m', '24h' or '3600s'"):
        parse_completion_window(window)


async def test_an_accepted_batch_is_created_with_every_request_pending_and_the_worker_woken(
    agents: AgentCommands, batches: BatchCommands, signals: EngineSignals, db: Database
) -> None:
    woken: list[str] = []
    signals.on_work(lambda: woken.append("work"))
    agent = await new_agent(agents)

    submitted = await batches.submit(
        OWNER, [turn(agent.id), turn(agent.id)], metadata={"run": "nightly"}, completion_window="1h"
    )

    batch = submitted.batch
    assert not submitted.replayed and batch.status is BatchStatus.CREATED
    assert batch.request_count == 2 and batch.counts.pending == 2
    assert batch.metadata == {"run": "nightly", "job_type": "batch_messages"}
    assert batch.expires_at is not None
    assert timedelta(minutes=59) < batch.expires_at - batch.created_at <= timedelta(hours=1)
    assert batch.agent_id == agent.id  # one agent addressed: the batch names it
    assert woken == ["work"]
    assert await rows(db, "batch_items") == 2


async def test_an_empty_batch_is_refused(batches: BatchCommands, db: Database) -> None:
    with pytest.raises(InvalidRequest, match="at least one request"):
        await batches.submit(OWNER, [])
    assert await rows(db, "batches") == 0


async def test_a_batch_naming_unknown_agents_is_refused_whole_naming_each_of_them(
    agents: AgentCommands, batches: BatchCommands, signals: EngineSignals, db: Database
) -> None:
    woken: list[str] = []
    signals.on_work(lambda: woken.append("work"))
    agent = await new_agent(agents)

    with pytest.raises(NotFound) as refused:
        await batches.submit(OWNER, [turn(agent.id), turn("agent-gone"), turn(agent.id), turn("agent-x")])

    message = str(refused.value.detail)
    assert "requests[1].agent_id=agent-gone" in message and "requests[3].agent_id=agent-x" in message
    assert "the batch was not created" in message
    assert await rows(db, "batches") == 0 and await rows(db, "batch_items") == 0
    assert woken == []  # nothing was queued, so no worker was woken


async def test_a_long_list_of_unknown_agents_is_shortened_with_a_count_of_the_rest(
    agents: AgentCommands, batches: BatchCommands
) -> None:
    with pytest.raises(NotFound) as refused:
        await batches.submit(OWNER, [turn(f"agent-missing-{n}") for n in range(14)])
    message = str(refused.value.detail)
    assert "requests[9].agent_id=agent-missing-9" in message
    assert "agent-missing-10" not in message and "and 4 more" in message


async def test_another_owners_agent_is_unknown_to_this_owner(
    agents: AgentCommands, batches: BatchCommands
) -> None:
    agent = await new_agent(agents)
    with pytest.raises(NotFound, match=rf"requests\[0\].agent_id={agent.id}"):
        await batches.submit("user-someone-else", [turn(agent.id)])


async def test_the_same_idempotency_key_and_body_return_the_first_batch_without_writing_again(
    agents: AgentCommands, batches: BatchCommands, db: Database
) -> None:
    agent = await new_agent(agents)
    key = IdempotencyKey("retry-me", body_hash="abc")

    first = await batches.submit(OWNER, [turn(agent.id)], idempotency=key)
    again = await batches.submit(OWNER, [turn(agent.id)], idempotency=key)

    assert not first.replayed and again.replayed
    assert again.batch.id == first.batch.id
    assert await rows(db, "batches") == 1 and await rows(db, "batch_items") == 1


async def test_the_same_idempotency_key_with_another_body_is_refused_naming_the_first_batch(
    agents: AgentCommands, batches: BatchCommands, db: Database
) -> None:
    agent = await new_agent(agents)
    first = await batches.submit(OWNER, [turn(agent.id)], idempotency=IdempotencyKey("k", "body-1"))

    with pytest.raises(IdempotencyKeyReused) as refused:
        await batches.submit(OWNER, [turn(agent.id, "other")], idempotency=IdempotencyKey("k", "body-2"))

    assert first.batch.id in str(refused.value.detail) and "'k'" in str(refused.value.detail)
    assert await rows(db, "batches") == 1


async def test_idempotency_keys_belong_to_their_owner(
    agents: AgentCommands, batches: BatchCommands, db: Database
) -> None:
    mine = await new_agent(agents)
    theirs = await agents.create_agent("user-other", NewAgent(name="theirs", model=mine.model))
    key = IdempotencyKey("shared-key", "same")

    first = await batches.submit(OWNER, [turn(mine.id)], idempotency=key)
    second = await batches.submit("user-other", [turn(theirs.id)], idempotency=key)

    assert not second.replayed and second.batch.id != first.batch.id
    assert await rows(db, "batches") == 2


async def test_cancelling_ends_every_unfinished_request_and_tells_the_turns_to_stop(
    agents: AgentCommands, batches: BatchCommands, signals: EngineSignals
) -> None:
    stopped: list[str] = []
    signals.on_cancel(stopped.append)
    agent = await new_agent(agents)
    batch = (await batches.submit(OWNER, [turn(agent.id), turn(agent.id), turn(agent.id)])).batch

    cancelled = await batches.cancel(OWNER, batch.id)

    assert cancelled.status is BatchStatus.CANCELLED
    assert cancelled.counts.cancelled == 3 and cancelled.counts.pending == 0
    assert cancelled.completed_at is not None
    assert stopped == [batch.id]


async def test_an_ended_batch_cannot_be_cancelled_again(
    agents: AgentCommands, batches: BatchCommands
) -> None:
    agent = await new_agent(agents)
    batch = (await batches.submit(OWNER, [turn(agent.id)])).batch
    await batches.cancel(OWNER, batch.id)

    with pytest.raises(StateConflict, match=r"already ended \(cancelled\)"):
        await batches.cancel(OWNER, batch.id)


@pytest.mark.parametrize("owner", [OWNER, "user-someone-else"])
async def test_cancelling_a_batch_the_caller_cannot_see_is_not_found(
    agents: AgentCommands, batches: BatchCommands, owner: str
) -> None:
    agent = await new_agent(agents)
    batch = (await batches.submit(OWNER, [turn(agent.id)])).batch
    target = "batch-unknown" if owner == OWNER else batch.id

    with pytest.raises(NotFound, match=target):
        await batches.cancel(owner, target)


async def test_a_batch_written_in_parts_keeps_its_order_and_each_agents_first_request_alone_ready(
    agents: AgentCommands, batches: BatchCommands, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_commands, "ITEM_PART", 2)
    first, second = await new_agent(agents, "first"), await new_agent(agents, "second")
    addressed = [first.id, first.id, second.id, first.id, second.id, second.id, first.id]
    custom_ids = [f"c{index}" for index in range(len(addressed))]
    texts = [f"request {index}" for index in range(len(addressed))]
    built: list[str] = []

    def requests() -> Iterator[TurnRequest]:
        for text in texts:
            built.append(text)
            yield turn(first.id, text).request

    batch = (await batches.submit(OWNER, BatchRequests(addressed, custom_ids, requests()))).batch

    async with db.read() as conn:
        stored = (
            await conn.execute(
                select(
                    tables.batch_items.c.position,
                    tables.batch_items.c.agent_id,
                    tables.batch_items.c.custom_id,
                    tables.batch_items.c.ready,
                    tables.batch_items.c.request,
                )
                .where(tables.batch_items.c.batch_id == batch.id)
                .order_by(tables.batch_items.c.seq)
            )
        ).all()
    assert built == texts and batch.counts.pending == 7
    assert [tuple(row[:4]) for row in stored] == [
        (index, agent_id, custom_id, index in (0, 2))
        for index, (agent_id, custom_id) in enumerate(zip(addressed, custom_ids, strict=True))
    ]
    assert [row.request["messages"][0]["content"][0]["text"] for row in stored] == texts


async def test_a_request_failing_to_build_in_a_later_part_leaves_nothing_of_the_batch(
    agents: AgentCommands, batches: BatchCommands, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_commands, "ITEM_PART", 2)
    agent = await new_agent(agents)

    def requests() -> Iterator[TurnRequest]:
        for index in range(5):
            if index == 4:  # two parts are written by now
                raise RuntimeError("request 4 could not be built")
            yield turn(agent.id).request

    with pytest.raises(RuntimeError, match="request 4"):
        await batches.submit(OWNER, BatchRequests([agent.id] * 5, [None] * 5, requests()))

    assert await rows(db, "batches") == 0 and await rows(db, "batch_items") == 0
