"""Queued requests survive the database: a request written now, and one a previous release left in
``batch_items.request``, come back typed when a worker claims its item (SQLite and PostgreSQL)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.domain.turn_requests import ApprovalReply, ClientTool, InputMessage, TurnRequest
from agentbatch.store import queue
from agentbatch.store.database import Database
from agentbatch.store.migrate import upgrade
from agentbatch.store.new_items import NewItem
from agentbatch.store.tables import batch_items

OLD_ROW: dict[str, Any] = {
    "max_steps": 2,
    "assistant_message_tool_name": "reply",
    "top_p": 0.5,
    "client_tools": [{"name": "lookup"}],
    "messages": [{"type": "message", "role": "user", "content": [{"type": "text", "text": "hi"}]}],
}


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.dispose()


async def _queue_and_claim(db: Database, request: TurnRequest, stored: dict[str, Any] | None) -> ClaimedItem:
    now = datetime.now(UTC)
    item = NewItem("agent-1", "openai/m", request)
    async with db.write() as conn:
        await queue.insert_items(conn, None, "owner", [item], now)
        if stored is not None:  # as the previous release wrote it
            await conn.execute(update(batch_items).where(batch_items.c.id == item.id).values(request=stored))
        [claimed] = await queue.claim_items(
            conn, "worker-1", model=None, limit=1, lease_until=now + timedelta(minutes=1), now=now
        )
    return claimed


async def test_a_queued_request_is_claimed_as_it_was_submitted(db: Database) -> None:
    request = TurnRequest(
        messages=(
            ApprovalReply(approval_request_id="message-1", approve=True),
            InputMessage(role="user", content=({"type": "text", "text": "go on"},), otid="o-1"),
        ),
        max_steps=4,
        use_assistant_message=False,
        include_return_message_types=("assistant_message",),
        client_tools=(ClientTool("lookup", "Look it up", {"type": "object", "properties": {}}),),
        extra={"top_p": 0.5},
    )
    assert (await _queue_and_claim(db, request, None)).request == request


async def test_a_request_queued_by_the_previous_release_runs_after_the_upgrade(db: Database) -> None:
    claimed = await _queue_and_claim(db, TurnRequest(), OLD_ROW)
    assert claimed.request == TurnRequest(
        messages=(InputMessage(role="user", content=({"type": "text", "text": "hi"},)),),
        max_steps=2,
        assistant_message_tool_name="reply",
        client_tools=(ClientTool("lookup"),),
        extra={"top_p": 0.5},
    )
