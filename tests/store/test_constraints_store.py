"""What the schema itself holds to, whoever writes: one row per step of an item, a custom id once per
batch; and text that the databases treat differently (NUL, which PostgreSQL refuses, becomes U+FFFD on
both; every other character round-trips exactly; a lone surrogate is refused and writes nothing)."""

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.paging import PageRequest
from agentbatch.domain.turn_request_json import request_from_json
from agentbatch.store import agents as agent_store
from agentbatch.store import batches as batch_store
from agentbatch.store import blocks as block_store
from agentbatch.store import messages as message_store
from agentbatch.store import results
from agentbatch.store import tools as tool_store
from agentbatch.store.database import Database
from agentbatch.store.tables import batch_items, steps
from tests.store.builders import (
    T0,
    agent,
    agent_ids,
    block,
    finish_item,
    message,
    request,
    store_agent,
    store_batch,
    tool,
)

REFUSED_BY_THE_DRIVER = (IntegrityError, DBAPIError, sqlite3.IntegrityError, asyncpg.UniqueViolationError)

UNICODE = [
    pytest.param("naïve café — «quotes»", id="latin"),
    pytest.param("日本語のテキストと한국어", id="cjk"),
    pytest.param("emoji 👩🏽‍💻 and \U0001d518\U0001d52b\U0001d526 (astral plane) 𐍈", id="astral"),
    pytest.param("עברית ومرحبا right-to-left \u200f", id="rtl"),
    pytest.param("e\u0301 combining, zero\u200bwidth, \ufeff bom", id="combining"),
    pytest.param("tabs\tnewlines\n\r\nand \\u0000 written out", id="controls-and-escapes"),
    pytest.param("\ufffd already a replacement", id="replacement"),
]


def _step_row(item_id: str, step_no: int) -> dict[str, object]:
    return {
        "id": new_id(IdPrefix.STEP),
        "item_id": item_id,
        "step_no": step_no,
        "agent_id": "agent-x",
        "prompt_tokens": 1,
        "completion_tokens": 1,
        "created_at": T0,
    }


async def test_a_step_number_is_written_once_per_item(db: Database, owner: str) -> None:
    stored = await store_batch(db, owner, agent_ids(2))
    first, second = stored.item_ids
    async with db.write() as conn:
        await conn.execute(insert(steps), [_step_row(first, 1), _step_row(first, 2), _step_row(second, 1)])

    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await conn.execute(insert(steps).values(_step_row(first, 2)))
    async with db.read() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(steps).where(steps.c.item_id.in_([first, second]))
        )
    assert count == 3


async def test_a_step_of_an_item_that_does_not_exist_is_refused(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await conn.execute(insert(steps).values(_step_row("batch_item-missing", 1)))


async def test_a_custom_id_is_used_once_per_batch_and_a_batch_breaking_that_is_not_written(
    db: Database, owner: str
) -> None:
    first = await store_batch(db, owner, agent_ids(3), custom_ids=["same", None, None])
    second = await store_batch(db, owner, agent_ids(1), custom_ids=["same"])

    with pytest.raises(REFUSED_BY_THE_DRIVER):
        await store_batch(db, owner, agent_ids(2), custom_ids=["twice", "twice"])

    async with db.read() as conn:
        mine = await batch_store.list_batches(conn, owner, PageRequest())
        items = await batch_store.list_items(conn, first.id, PageRequest(descending=False))
    assert {b.id for b in mine} == {first.id, second.id}
    assert [i.custom_id for i in items] == ["same", None, None]


async def test_nul_characters_become_replacement_characters_in_every_kind_of_column(
    db: Database, owner: str
) -> None:
    nul = "before\x00after"
    replaced = "before\ufffdafter"
    new = agent(owner, name=nul, tags=[nul], blocks=[block("human", nul)])
    new.system = nul
    new.metadata = {nul: [nul, {"deep": nul}]}
    await store_agent(db, new)
    custom = tool(owner, "nul_tool")
    custom.source_code = nul
    custom.json_schema = {"description": nul}
    async with db.write() as conn:
        await tool_store.insert_tool(conn, custom, T0)
        await message_store.insert_messages(conn, owner, [message(new.id, nul)])
    stored_batch = await store_batch(db, owner, [new.id], custom_ids=[f"id{nul}"])

    async with db.read() as conn:
        found = await agent_store.get_agent(conn, owner, new.id)
        found_tool = (await tool_store.tools_by_id(conn, owner, [custom.id]))[custom.id]
        history = (await message_store.histories(conn, [new.id]))[new.id]
        (item,) = await batch_store.list_items(conn, stored_batch.id, PageRequest())
        tagged = await agent_store.list_agents(conn, owner, PageRequest(), tags=[replaced])

    assert found is not None
    assert (found.name, found.system, found.tags) == (replaced, replaced, [replaced])
    assert found.metadata == {replaced: [replaced, {"deep": replaced}]}
    assert found.blocks[0].value == replaced
    assert (found_tool.source_code, found_tool.json_schema) == (replaced, {"description": replaced})
    assert history[0].text == replaced
    assert item.custom_id == f"id{replaced}"
    assert [a.id for a in tagged] == [new.id]


async def test_nul_in_a_block_edit_a_batch_and_its_requests_is_replaced(db: Database, owner: str) -> None:
    edited = block("notes", "v1")
    async with db.write() as conn:
        await block_store.insert_block(conn, owner, edited, T0)
        await block_store.update_block(conn, edited.id, {"value": "v2\x00"}, T0 + timedelta(seconds=1))
        found_block = await block_store.get_block(conn, owner, edited.id)
    stored_batch = await store_batch(db, owner, agent_ids(1), text="say\x00", metadata={"k\x00": "\x00"})
    await finish_item(db, stored_batch.item_ids[0])

    async with db.read() as conn:
        found_batch = await batch_store.get_batch(conn, owner, stored_batch.id)
        (done,) = (await results.walk(conn, stored_batch.id, 0, 10)).finished

    assert found_block is not None and found_block.block.value == "v2\ufffd"
    assert found_batch is not None and found_batch.metadata == {"k\ufffd": "\ufffd"}
    assert done.request == request("say\ufffd 0")


@pytest.mark.parametrize("with_nul", [False, True], ids=["no-nul", "one-nul"])
async def test_a_batchs_requests_are_stored_each_as_given(db: Database, owner: str, with_nul: bool) -> None:
    """The request column is encoded in one call and split at raw 0x1F bytes: a request holding that
    character, or the split sequence itself, stays whole; a NUL in one request is replaced in it alone."""
    texts = ["plain", "unit\x1fseparator", ',\x1f,{"a":1},\x1f,', "\\u0000 written out", "x,\x1f"]
    if with_nul:
        texts.append("nul\x00here")
    batch = await store_batch(db, owner, agent_ids(len(texts)), texts=texts)

    async with db.read() as conn:
        rows = await conn.execute(
            select(batch_items.c.request)
            .where(batch_items.c.batch_id == batch.id)
            .order_by(batch_items.c.seq)
        )
        stored = [request_from_json(row.request) for row in rows]

    assert stored == [request(text.replace("\x00", "\ufffd")) for text in texts]


@pytest.mark.parametrize("text", UNICODE)
async def test_text_round_trips_exactly_through_every_write_path(db: Database, owner: str, text: str) -> None:
    new = agent(owner, name=text[:200], tags=[text[:200]], blocks=[block("human", text)])
    new.metadata = {text: text}
    await store_agent(db, new)
    async with db.write() as conn:
        await message_store.insert_messages(conn, owner, [message(new.id, text)])
    stored_batch = await store_batch(db, owner, [new.id], custom_ids=[text[:30]])

    async with db.read() as conn:
        found = await agent_store.get_agent(conn, owner, new.id)
        history = (await message_store.histories(conn, [new.id]))[new.id]
        (item,) = await batch_store.list_items(conn, stored_batch.id, PageRequest())

    assert found is not None
    assert (found.name, found.tags, found.metadata) == (text[:200], [text[:200]], {text: text})
    assert found.blocks[0].value == text
    assert history[0].text == text
    assert item.custom_id == text[:30]


async def test_a_lone_surrogate_is_refused_and_writes_nothing(db: Database, owner: str) -> None:
    keeper = await store_agent(db, agent(owner))

    with pytest.raises((TypeError, UnicodeEncodeError, DBAPIError)):
        async with db.write() as conn:
            await message_store.insert_messages(conn, owner, [message(keeper.id, "fine")])
            await message_store.insert_messages(conn, owner, [message(keeper.id, "bad \ud800 text")])
    with pytest.raises((UnicodeEncodeError, DBAPIError)):
        await store_agent(db, agent(owner, name="bad \udfff"))

    async with db.write() as conn:
        await message_store.insert_messages(conn, owner, [message(keeper.id, "after")])
        history = (await message_store.histories(conn, [keeper.id]))[keeper.id]
        listed = await agent_store.list_agents(conn, owner, PageRequest())
    assert [m.text for m in history] == ["after"]
    assert [a.id for a in listed] == [keeper.id]


@pytest.mark.parametrize("text", UNICODE)
async def test_a_stored_request_reads_back_as_the_same_request(db: Database, owner: str, text: str) -> None:
    stored_batch = await store_batch(db, owner, agent_ids(1), text=text)
    await finish_item(db, stored_batch.item_ids[0])

    async with db.read() as conn:
        (done,) = (await results.walk(conn, stored_batch.id, 0, 10)).finished

    assert done.request == request(f"{text} 0")


async def test_times_come_back_in_utc_whatever_zone_they_were_given_in(db: Database, owner: str) -> None:
    paris = timezone(timedelta(hours=1))
    given = datetime(2026, 11, 30, 13, 0, 0, 123456, tzinfo=paris)
    stored = await store_agent(db, agent(owner, created_at=given))

    async with db.read() as conn:
        found = await agent_store.get_agent(conn, owner, stored.id)

    assert found is not None
    assert found.created_at == given
    assert (found.created_at.tzinfo, found.created_at.hour, found.created_at.microsecond) == (UTC, 12, 123456)


async def test_a_time_without_a_zone_is_refused(db: Database, owner: str) -> None:
    with pytest.raises(StatementError, match="naive datetimes"):
        await store_agent(db, agent(owner, created_at=datetime(2026, 11, 30, 12, 0)))

    async with db.read() as conn:
        assert await agent_store.list_agents(conn, owner, PageRequest()) == []
