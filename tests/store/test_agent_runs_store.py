"""An agent's turns as a whole, in the store: cancelling the turn that runs or is next (and only that,
unless ids are named), forgetting a history except the turn still going on, and what a turn's prompt
draws on (message ids, a pending approval request)."""

from datetime import timedelta

from agentbatch.domain.messages import Message, Role, ToolCall
from agentbatch.domain.paging import PageRequest
from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason
from agentbatch.store import agent_runs
from agentbatch.store import batches as batch_store
from agentbatch.store import messages as message_store
from agentbatch.store.database import Database
from tests.store.builders import (
    T0,
    agent,
    agent_ids,
    finish_item,
    message,
    set_item_status,
    store_agent,
    store_batch,
)

LATER = T0 + timedelta(minutes=1)


async def _statuses(db: Database, batch_id: str) -> list[ItemStatus]:
    async with db.read() as conn:
        return [i.status for i in await batch_store.list_items(conn, batch_id, PageRequest(descending=False))]


async def test_cancelling_stops_the_running_turn_and_readies_the_next(db: Database, owner: str) -> None:
    (agent_id,) = agent_ids(1)
    stored = await store_batch(db, owner, [agent_id, agent_id, agent_id])
    await set_item_status(db, stored.item_ids[0], ItemStatus.RUNNING)

    async with db.write() as conn:
        cancelled = await agent_runs.cancel_current_turns(conn, agent_id, None, LATER)
    async with db.read() as conn:
        first = await batch_store.get_item(conn, stored.item_ids[0])

    assert cancelled == [(stored.item_ids[0], stored.id)]
    assert await _statuses(db, stored.id) == [ItemStatus.CANCELLED, ItemStatus.PENDING, ItemStatus.PENDING]
    assert first is not None and (first.stop_reason, first.completed_at) == ("cancelled", LATER)
    async with db.write() as conn:
        second = await agent_runs.cancel_current_turns(conn, agent_id, None, LATER)
    assert second == [(stored.item_ids[1], stored.id)], "the next item became the current turn"


async def test_cancelling_named_items_cancels_only_those(db: Database, owner: str) -> None:
    (agent_id,) = agent_ids(1)
    stored = await store_batch(db, owner, [agent_id, agent_id, agent_id])

    async with db.write() as conn:
        cancelled = await agent_runs.cancel_current_turns(conn, agent_id, [stored.item_ids[2]], LATER)
        nothing = await agent_runs.cancel_current_turns(conn, "agent-idle", None, LATER)

    assert cancelled == [(stored.item_ids[2], stored.id)] and nothing == []
    assert await _statuses(db, stored.id) == [ItemStatus.PENDING, ItemStatus.PENDING, ItemStatus.CANCELLED]


async def test_cancelling_a_batchs_last_unfinished_turn_ends_the_batch(db: Database, owner: str) -> None:
    (agent_id,) = agent_ids(1)
    stored = await store_batch(db, owner, [agent_id, agent_id])
    await finish_item(db, stored.item_ids[0], StopReason.END_TURN)
    async with db.write() as conn:
        await agent_runs.cancel_current_turns(conn, agent_id, [stored.item_ids[1]], LATER)
        batch = await batch_store.get_batch(conn, owner, stored.id)

    assert batch is not None
    assert (batch.status, batch.stop_reason) == (BatchStatus.COMPLETED, None)
    assert (batch.counts.succeeded, batch.counts.cancelled) == (1, 1)
    assert batch.completed_at == LATER


async def test_resetting_a_history_keeps_only_the_turn_still_going_on(db: Database, owner: str) -> None:
    talker = await store_agent(db, agent(owner))
    stored = await store_batch(db, owner, [talker.id, talker.id])
    done, going = stored.item_ids
    await finish_item(db, done)
    async with db.write() as conn:
        await message_store.insert_messages(
            conn,
            owner,
            [
                message(talker.id, "old, synchronous"),
                message(talker.id, "old, batch", batch_id=stored.id, item_id=done),
                message(talker.id, "current turn", batch_id=stored.id, item_id=going),
            ],
        )
        deleted = await agent_runs.reset_history(conn, talker.id)
        left = (await message_store.histories(conn, [talker.id]))[talker.id]

    assert deleted == 2
    assert [m.text for m in left] == ["current turn"]


async def test_message_ids_come_oldest_first_per_agent(db: Database, owner: str) -> None:
    one = await store_agent(db, agent(owner))
    two = await store_agent(db, agent(owner))
    made = [message(one.id, "1"), message(two.id, "2"), message(one.id, "3")]
    async with db.write() as conn:
        await message_store.insert_messages(conn, owner, made)
        found = await agent_runs.message_ids(conn, [one.id, two.id, "agent-silent"])
        assert await agent_runs.message_ids(conn, []) == {}

    assert found == {one.id: [made[0].id, made[2].id], two.id: [made[1].id], "agent-silent": []}


def _approval_request(agent_id: str) -> Message:
    return Message(
        id=f"message-approval-{agent_id}",
        agent_id=agent_id,
        role=Role.APPROVAL,
        created_at=T0,
        tool_calls=[ToolCall("call-1", "transfer_money", '{"amount": 5}')],
    )


async def test_an_agent_paused_on_an_approval_request_is_found_with_it(db: Database, owner: str) -> None:
    paused = await store_agent(db, agent(owner))
    answered = await store_agent(db, agent(owner))
    async with db.write() as conn:
        await message_store.insert_messages(
            conn,
            owner,
            [
                message(paused.id, "please pay"),
                _approval_request(paused.id),
                _approval_request(answered.id),
                message(answered.id, "approved", role=Role.APPROVAL),
            ],
        )
        found = await agent_runs.latest_approval_requests(conn, [paused.id, answered.id])
        assert await agent_runs.latest_approval_requests(conn, []) == {}

    assert list(found) == [paused.id]
    assert [call.name for call in found[paused.id].tool_calls] == ["transfer_money"]
