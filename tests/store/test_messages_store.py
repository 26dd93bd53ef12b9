"""Message histories in the store: every field of the neutral message model reads back, histories come
back in the order they were written (``seq``, not the clock), pages are exact in both directions, and
messages are found by the batch and the turn that wrote them."""

from datetime import timedelta

import pytest

from agentbatch.domain.errors import InvalidRequest
from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn, text_part
from agentbatch.domain.paging import PageRequest
from agentbatch.store import messages as message_store
from agentbatch.store.database import Database
from tests.store.builders import T0, agent, message, store_agent


async def _agent_id(db: Database, owner: str) -> str:
    return (await store_agent(db, agent(owner))).id


async def _write(db: Database, owner: str, new: list[Message]) -> list[str]:
    async with db.write() as conn:
        await message_store.insert_messages(conn, owner, new)
    return [m.id for m in new]


async def test_every_field_of_a_message_reads_back(db: Database, owner: str) -> None:
    agent_id = await _agent_id(db, owner)
    full = Message(
        id="message-full",
        agent_id=agent_id,
        role=Role.ASSISTANT,
        created_at=T0,
        content=[text_part("checking"), {"type": "reasoning", "reasoning": "think", "signature": None}],
        tool_calls=[ToolCall("call-1", "lookup", '{"q": "x"}'), ToolCall("call-2", "broken", "{not json")],
        name="helper",
        otid="otid-1",
        sender_id="sender-1",
        group_id="group-1",
        batch_id="job-1",
        batch_item_id="batch_item-1",
        step_id="step-1",
        run_id="run-1",
        model="openai/gpt-4o-mini",
        is_err=True,
        approval_request_id="approval-1",
        approve=False,
        denial_reason="not today",
        approvals=[{"tool_call_id": "call-1", "approve": False}],
    )
    full.id = f"message-{owner}"
    tool_reply = Message(
        id=f"message-tool-{owner}",
        agent_id=agent_id,
        role=Role.TOOL,
        created_at=T0,
        tool_call_id="call-1",
        tool_returns=[ToolReturn("call-1", "error", "boom", stdout=["out"], stderr=["err", "more"])],
    )
    await _write(db, owner, [full, tool_reply])

    async with db.read() as conn:
        found = await message_store.list_agent_messages(conn, owner, agent_id, PageRequest(descending=False))

    expected = [full, tool_reply]
    for stored in expected:
        stored.created_by_id = owner
    assert found == expected


async def test_a_history_is_in_written_order_even_when_the_clock_says_otherwise(
    db: Database, owner: str
) -> None:
    agent_id = await _agent_id(db, owner)
    first = await _write(db, owner, [message(agent_id, "late clock", created_at=T0 + timedelta(hours=1))])
    second = await _write(db, owner, [message(agent_id, "early clock", created_at=T0)])
    more = await _write(db, owner, [message(agent_id, f"m{n}") for n in range(3)])

    async with db.read() as conn:
        history = (await message_store.histories(conn, [agent_id]))[agent_id]
        listed = await message_store.list_agent_messages(conn, owner, agent_id, PageRequest())

    assert [m.id for m in history] == first + second + more
    assert [m.id for m in listed] == (first + second + more)[::-1]


async def test_histories_of_several_agents_come_back_apart(db: Database, owner: str) -> None:
    one, two, silent = [await _agent_id(db, owner) for _ in range(3)]
    await _write(db, owner, [message(one, "1a"), message(two, "2a"), message(one, "1b")])

    async with db.read() as conn:
        found = await message_store.histories(conn, [one, two, silent])
        assert await message_store.histories(conn, []) == {}

    assert [m.text for m in found[one]] == ["1a", "1b"]
    assert [m.text for m in found[two]] == ["2a"]
    assert found[silent] == []


async def test_another_owner_reads_none_of_an_agents_messages(db: Database, owner: str) -> None:
    agent_id = await _agent_id(db, owner)
    await _write(db, owner, [message(agent_id, "private")])

    async with db.read() as conn:
        assert await message_store.list_agent_messages(conn, f"{owner}-other", agent_id, PageRequest()) == []


async def _walk(db: Database, owner: str, agent_id: str, page: PageRequest) -> list[str]:
    """Follow cursors as the SDK does, until an empty page."""
    seen: list[str] = []
    while True:
        async with db.read() as conn:
            found = await message_store.list_agent_messages(conn, owner, agent_id, page)
        if not found:
            return seen
        seen.extend(m.id for m in found)
        if page.before is not None:
            page = PageRequest(before=found[0].id, limit=page.limit, descending=page.descending)
        else:
            page = PageRequest(after=found[-1].id, limit=page.limit, descending=page.descending)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [1, 3, 10])
async def test_walking_a_history_by_cursor_visits_every_message_once(
    db: Database, owner: str, descending: bool, limit: int
) -> None:
    agent_id = await _agent_id(db, owner)
    ids = await _write(db, owner, [message(agent_id, str(n)) for n in range(7)])
    in_order = ids[::-1] if descending else ids

    assert await _walk(db, owner, agent_id, PageRequest(limit=limit, descending=descending)) == in_order


@pytest.mark.parametrize("descending", [False, True])
async def test_walking_back_from_a_cursor_reaches_the_start(
    db: Database, owner: str, descending: bool
) -> None:
    agent_id = await _agent_id(db, owner)
    ids = await _write(db, owner, [message(agent_id, str(n)) for n in range(6)])
    cursor = ids[4] if not descending else ids[1]

    async with db.read() as conn:
        nearest = await message_store.list_agent_messages(
            conn, owner, agent_id, PageRequest(before=cursor, limit=2, descending=descending)
        )
    walked = await _walk(db, owner, agent_id, PageRequest(before=cursor, limit=2, descending=descending))

    if descending:
        assert [m.id for m in nearest] == [ids[3], ids[2]]
        assert sorted(walked) == sorted(ids[2:])
    else:
        assert [m.id for m in nearest] == [ids[2], ids[3]]
        assert sorted(walked) == sorted(ids[:4])


async def test_a_cursor_of_another_agents_message_is_refused(db: Database, owner: str) -> None:
    mine, theirs = await _agent_id(db, owner), await _agent_id(db, owner)
    (foreign,) = await _write(db, owner, [message(theirs, "elsewhere")])
    await _write(db, owner, [message(mine, "here")])

    async with db.read() as conn:
        with pytest.raises(InvalidRequest, match="cursor"):
            await message_store.list_agent_messages(conn, owner, mine, PageRequest(after=foreign))


async def test_messages_are_found_by_their_batch_and_by_their_turn(db: Database, owner: str) -> None:
    one, two = await _agent_id(db, owner), await _agent_id(db, owner)
    batch_id, other_batch = "job-" + owner, "job-other-" + owner
    ids = await _write(
        db,
        owner,
        [
            message(one, "q1", batch_id=batch_id, item_id="item-1"),
            message(one, "a1", role=Role.ASSISTANT, batch_id=batch_id, item_id="item-1"),
            message(two, "q2", batch_id=batch_id, item_id="item-2"),
            message(two, "elsewhere", batch_id=other_batch, item_id="item-3"),
            message(one, "sync"),
        ],
    )

    async with db.read() as conn:
        in_batch = await message_store.list_batch_messages(conn, batch_id, PageRequest(descending=False))
        of_one = await message_store.list_batch_messages(
            conn, batch_id, PageRequest(descending=False), agent_id=one
        )
        of_turn = await message_store.item_messages(conn, "item-1")
        of_nothing = await message_store.item_messages(conn, "item-missing")

    assert [m.id for m in in_batch] == ids[:3]
    assert [m.id for m in of_one] == ids[:2]
    assert [(m.role, m.text) for m in of_turn] == [(Role.USER, "q1"), (Role.ASSISTANT, "a1")]
    assert of_nothing == []


async def test_thousands_of_messages_written_at_once_keep_their_order(db: Database, owner: str) -> None:
    agent_id = await _agent_id(db, owner)
    ids = await _write(db, owner, [message(agent_id, f"bulk {n}") for n in range(2_000)])

    async with db.read() as conn:
        history = (await message_store.histories(conn, [agent_id]))[agent_id]

    assert [m.id for m in history] == ids
    assert history[1234].text == "bulk 1234"
