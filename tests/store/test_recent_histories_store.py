"""A turn loads only the newest messages its agent's context window could hold (``recent_histories``):
the window the runtime then fits is the one the whole history gives, whatever the messages' sizes, and
what was left out is counted."""

import random

import pytest
from sqlalchemy import update

from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn, estimated_tokens, text_part
from agentbatch.providers.base import ToolSpec
from agentbatch.runtime.context_window import fit
from agentbatch.store import messages as message_store
from agentbatch.store.database import Database
from agentbatch.store.tables import messages
from tests.store.builders import agent, message, store_agent


async def _agent_with(db: Database, owner: str, history: list[Message]) -> str:
    talker = await store_agent(db, agent(owner))
    written = [
        Message(**{**{name: getattr(m, name) for name in Message.__slots__}, "agent_id": talker.id})
        for m in history
    ]
    async with db.write() as conn:
        await message_store.insert_messages(conn, owner, written)
    return talker.id


LARGE = (0, 3, 40, 400, 4_000, 20_000)
SMALL = (0, 3, 10, 40, 90)
"""Messages mostly smaller than ``FIRST_READ_TOKENS``: the first read does not fill the window."""


def _varied_history(seed: int, count: int, sizes: tuple[int, ...] = LARGE) -> list[Message]:
    """User and assistant texts of very different sizes, with tool calls and their results between."""
    rng = random.Random(seed)
    history: list[Message] = []
    for index in range(count):
        size = rng.choice(sizes)
        if index % 5 == 3:
            call = ToolCall(f"call-{index}", "lookup", '{"q": "' + "x" * size + '"}')
            calling = message("agent-x", "", role=Role.ASSISTANT)
            calling.tool_calls = [call]
            result = message("agent-x", "", role=Role.TOOL)
            result.tool_call_id = call.id
            returned = "y" * rng.choice([1, 900, 9_000] if sizes is LARGE else [1, 20])
            result.tool_returns = [ToolReturn(call.id, "success", returned)]
            history += [calling, result]
        else:
            history.append(message("agent-x", "z" * size, role=rng.choice([Role.USER, Role.ASSISTANT])))
    return history


@pytest.mark.parametrize(
    ("context_window", "sizes", "count"),
    [(600, LARGE, 120), (5_000, LARGE, 120), (40_000, LARGE, 120), (600, SMALL, 400), (2_000, SMALL, 800)],
)
async def test_the_window_fitted_from_the_newest_messages_is_the_window_of_the_whole_history(
    db: Database, owner: str, context_window: int, sizes: tuple[int, ...], count: int
) -> None:
    agent_id = await _agent_with(db, owner, _varied_history(context_window, count, sizes))
    system, tools = "You are a helper.", [ToolSpec("lookup", "Looks up.", {"type": "object"})]

    async with db.read() as conn:
        whole = (await message_store.histories(conn, [agent_id]))[agent_id]
        recent = (await message_store.recent_histories(conn, [agent_id], tokens=context_window))[agent_id]

    assert 0 < len(recent.messages) < len(whole)  # the test's histories do not fit whole
    assert recent.messages == whole[recent.earlier :]  # the newest ones, in order
    for reserve in (0, 100, context_window // 4):
        from_whole = fit(system, tools, whole, context_window, reserve)
        from_recent = fit(system, tools, recent.messages, context_window, reserve)
        assert from_recent.messages == from_whole.messages
        assert from_recent.dropped + recent.earlier == from_whole.dropped


async def test_a_message_is_loaded_while_its_newer_messages_take_less_than_the_window(
    db: Database, owner: str
) -> None:
    texts = [f"{index:02d}" + "w" * 96 for index in range(10)]  # 98 characters: 24 + 6 = 30 tokens each
    agent_id = await _agent_with(db, owner, [message("agent-x", text) for text in texts])

    async with db.read() as conn:
        exact = (await message_store.recent_histories(conn, [agent_id], tokens=90))[agent_id]
        one_more = (await message_store.recent_histories(conn, [agent_id], tokens=91))[agent_id]
        tiny = (await message_store.recent_histories(conn, [agent_id], tokens=1))[agent_id]

    assert [m.text[:2] for m in exact.messages] == ["07", "08", "09"] and exact.earlier == 7
    assert [m.text[:2] for m in one_more.messages] == ["06", "07", "08", "09"] and one_more.earlier == 6
    assert [m.text[:2] for m in tiny.messages] == ["09"]  # the newest always: a paused turn's call


async def test_messages_written_before_their_size_was_kept_count_as_the_smallest_and_are_loaded(
    db: Database, owner: str
) -> None:
    agent_id = await _agent_with(db, owner, [message("agent-x", "v" * 4_000) for _ in range(8)])
    async with db.write() as conn:
        await conn.execute(
            update(messages).where(messages.c.agent_id == agent_id).values(estimated_tokens=None)
        )

    async with db.read() as conn:
        recent = (await message_store.recent_histories(conn, [agent_id], tokens=1_000))[agent_id]

    # 1,006 tokens each, so one fits; unknown sizes count 6 each, so all eight are loaded
    assert len(recent.messages) == 8 and recent.earlier == 0


async def test_a_resumed_turns_own_messages_are_all_loaded_however_large(db: Database, owner: str) -> None:
    older = [message("agent-x", "o" * 400) for _ in range(5)]
    own = [message("agent-x", "t" * 4_000, item_id="batch_item-resumed") for _ in range(4)]
    agent_id = await _agent_with(db, owner, older + own)

    async with db.read() as conn:
        recent = (
            await message_store.recent_histories(
                conn, [agent_id], tokens=500, item_ids=["batch_item-resumed"]
            )
        )[agent_id]

    assert [m.text[0] for m in recent.messages] == ["t", "t", "t", "t"]
    assert recent.earlier == 5


async def test_each_agent_gets_its_own_newest_messages_and_an_agent_without_any_none(
    db: Database, owner: str
) -> None:
    chatty = await _agent_with(db, owner, [message("agent-x", f"c{index}" + "c" * 200) for index in range(9)])
    quiet = await _agent_with(db, owner, [message("agent-x", "only one")])
    silent = await _agent_with(db, owner, [])

    async with db.read() as conn:
        found = await message_store.recent_histories(conn, [chatty, quiet, silent], tokens=200)

    assert [m.text[:2] for m in found[chatty].messages] == ["c5", "c6", "c7", "c8"]
    assert found[chatty].earlier == 5
    assert [m.text for m in found[quiet].messages] == ["only one"] and found[quiet].earlier == 0
    assert found[silent].messages == [] and found[silent].earlier == 0


async def test_each_message_keeps_the_size_the_runtime_counts(db: Database, owner: str) -> None:
    calling = message("agent-x", "thinking", role=Role.ASSISTANT)
    calling.tool_calls = [ToolCall("call-1", "lookup", '{"q": "weather"}')]
    result = Message("m", "agent-x", Role.TOOL, calling.created_at, [text_part("")])
    result.tool_returns = [ToolReturn("call-1", "success", "sunny " * 100)]
    agent_id = await _agent_with(db, owner, [calling, result])

    async with db.read() as conn:
        stored = (
            await conn.execute(
                messages.select()
                .with_only_columns(messages.c.estimated_tokens)
                .where(messages.c.agent_id == agent_id)
                .order_by(messages.c.seq)
            )
        ).scalars()
        assert list(stored) == [estimated_tokens(calling), estimated_tokens(result)]


async def test_older_messages_walk_a_history_newest_first_page_by_page(db: Database, owner: str) -> None:
    agent_id = await _agent_with(db, owner, [message("agent-x", f"m{index}") for index in range(23)])

    walked: list[str] = []
    before = None
    async with db.read() as conn:
        while page := await message_store.older_messages(conn, agent_id, before=before, limit=5):
            walked += [found.text for _seq, found in page]
            before = page[-1][0]

    assert walked == [f"m{index}" for index in reversed(range(23))]
