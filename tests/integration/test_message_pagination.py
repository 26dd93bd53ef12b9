"""Keyset pagination over messages: exclusive cursors, both orders, both directions, both databases."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from agentbatch.domain.agents import Agent, AgentType
from agentbatch.domain.errors import InvalidRequest
from agentbatch.domain.ids import DEFAULT_USER_ID, IdPrefix, new_id
from agentbatch.domain.messages import Message, Role, text_part
from agentbatch.domain.paging import PageRequest
from agentbatch.server import prepare_database
from agentbatch.store import agents as agent_store
from agentbatch.store import messages as message_store
from agentbatch.store.database import Database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await prepare_database(database)
    yield database
    await database.dispose()


async def _agent_with_messages(db: Database, count: int) -> tuple[str, list[str]]:
    now = datetime.now(UTC)
    agent = Agent(
        id=new_id(IdPrefix.AGENT),
        owner_id=DEFAULT_USER_ID,
        name="a",
        agent_type=AgentType.LETTA_V1,
        system="s",
        model="openai/m",
        llm_config={},
        created_at=now,
        updated_at=now,
    )
    batch_id = new_id(IdPrefix.BATCH)
    stored = [
        Message(
            id=new_id(IdPrefix.MESSAGE),
            agent_id=agent.id,
            role=Role.USER,
            created_at=now,
            content=[text_part(str(i))],
            batch_id=batch_id,
        )
        for i in range(count)
    ]
    async with db.write() as conn:
        await agent_store.insert_agent(conn, agent)
        await message_store.insert_messages(conn, DEFAULT_USER_ID, stored)
    return batch_id, [message.id for message in stored]


async def _walk(db: Database, batch_id: str, page: PageRequest) -> list[str]:
    """Drive the store as the SDK drives the API: follow the last (or first) id until an empty page."""
    seen: list[str] = []
    while True:
        async with db.read() as conn:
            found = await message_store.list_batch_messages(conn, batch_id, page)
        if not found:
            return seen
        seen.extend(message.id for message in found)
        if page.before is not None:
            page = PageRequest(before=found[0].id, limit=page.limit, descending=page.descending)
        else:
            page = PageRequest(after=found[-1].id, limit=page.limit, descending=page.descending)


async def test_forward_walks_visit_each_message_once_in_written_order(db: Database) -> None:
    batch_id, ids = await _agent_with_messages(db, 11)

    assert await _walk(db, batch_id, PageRequest(limit=4, descending=False)) == ids
    assert await _walk(db, batch_id, PageRequest(limit=4, descending=True)) == ids[::-1]


async def test_backward_walk_from_a_cursor_returns_the_nearest_items_first(db: Database) -> None:
    batch_id, ids = await _agent_with_messages(db, 9)

    async with db.read() as conn:
        page = await message_store.list_batch_messages(
            conn, batch_id, PageRequest(before=ids[6], limit=3, descending=False)
        )
    assert [message.id for message in page] == ids[3:6]
    walked = await _walk(db, batch_id, PageRequest(before=ids[6], limit=2, descending=False))
    assert sorted(walked) == sorted(ids[:6]) and len(walked) == 6


async def test_after_and_before_together_bound_a_range(db: Database) -> None:
    batch_id, ids = await _agent_with_messages(db, 8)
    async with db.read() as conn:
        page = await message_store.list_batch_messages(
            conn, batch_id, PageRequest(after=ids[1], before=ids[6], limit=100, descending=False)
        )
    assert [message.id for message in page] == ids[2:6]


async def test_a_cursor_from_elsewhere_is_a_clear_error(db: Database) -> None:
    batch_id, _ = await _agent_with_messages(db, 2)
    async with db.read() as conn:
        with pytest.raises(InvalidRequest, match="cursor"):
            await message_store.list_batch_messages(
                conn, batch_id, PageRequest(after=new_id(IdPrefix.MESSAGE))
            )
