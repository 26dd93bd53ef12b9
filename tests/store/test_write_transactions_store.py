"""A write transaction is all or nothing, whatever its statements are: the bulk inserts that go straight
through the driver (messages, items) are undone with the rest when the transaction fails — also when the
bulk insert is the first thing the transaction does."""

import pytest

from agentbatch.domain.batches import Batch
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.states import BatchStatus
from agentbatch.store import batches as batch_store
from agentbatch.store import messages as message_store
from agentbatch.store.database import Database
from agentbatch.store.new_items import NewItem
from tests.store.builders import T0, agent, agent_ids, message, request, store_agent


class TransactionFailed(Exception):
    pass


async def _history(db: Database, agent_id: str) -> list[str]:
    async with db.read() as conn:
        return [m.text for m in (await message_store.histories(conn, [agent_id]))[agent_id]]


async def test_messages_bulk_inserted_first_are_undone_with_their_transaction(
    db: Database, owner: str
) -> None:
    talker = await store_agent(db, agent(owner))

    with pytest.raises(TransactionFailed):
        async with db.write() as conn:
            await message_store.insert_messages(conn, owner, [message(talker.id, "never happened")])
            raise TransactionFailed

    assert await _history(db, talker.id) == []


async def test_messages_bulk_inserted_after_other_statements_are_undone_too(db: Database, owner: str) -> None:
    talker = await store_agent(db, agent(owner))

    with pytest.raises(TransactionFailed):
        async with db.write() as conn:
            await message_store.histories(conn, [talker.id])
            await message_store.insert_messages(conn, owner, [message(talker.id, "never happened")])
            raise TransactionFailed

    assert await _history(db, talker.id) == []


async def test_a_batch_and_its_items_are_undone_with_their_transaction(db: Database, owner: str) -> None:
    batch = Batch(new_id(IdPrefix.BATCH), owner, BatchStatus.CREATED, 1, T0, T0)
    item = NewItem(agent_ids(1)[0], "openai/gpt-4o-mini", request("lost"))

    with pytest.raises(TransactionFailed):
        async with db.write() as conn:
            await batch_store.insert_batch(conn, batch, [item])
            raise TransactionFailed

    async with db.read() as conn:
        assert await batch_store.get_batch(conn, owner, batch.id) is None
        assert await batch_store.get_item(conn, item.id) is None


async def test_a_committed_bulk_insert_is_kept(db: Database, owner: str) -> None:
    talker = await store_agent(db, agent(owner))

    async with db.write() as conn:
        await message_store.insert_messages(
            conn, owner, [message(talker.id, "one"), message(talker.id, "two")]
        )

    assert await _history(db, talker.id) == ["one", "two"]
