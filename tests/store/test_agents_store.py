"""Agents in the store: what is written reads back, each owner sees only their own, tags and tools are
kept in order, and deleting an agent takes its tags, links, history and unshared blocks with it."""

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from agentbatch.domain.paging import PageRequest
from agentbatch.store import agents as agent_store
from agentbatch.store import blocks as block_store
from agentbatch.store import messages as message_store
from agentbatch.store import tools as tool_store
from agentbatch.store.database import Database
from agentbatch.store.tables import agent_tags, agent_tools, blocks, messages
from tests.store.builders import T0, agent, at, block, message, store_agent, tool


async def test_an_agent_reads_back_with_every_field_its_blocks_and_tools(db: Database, owner: str) -> None:
    helper = tool(owner, "lookup_order")
    async with db.write() as conn:
        await tool_store.insert_tool(conn, helper, T0)
    new = agent(
        owner, name="support", tags=["eu", "tier-1"], blocks=[block("human", "Ada"), block("persona", "kind")]
    )
    new.tools.append(helper)
    new.description = "answers support mail"
    new.metadata = {"team": "care", "nested": {"n": [1, 2]}}
    new.tool_rules = [{"tool_name": "lookup_order", "type": "run_first"}]
    new.options = {"timezone": "Europe/Paris"}
    new.embedding = "openai/text-embedding-3-small"
    await store_agent(db, new)

    async with db.read() as conn:
        found = await agent_store.get_agent(conn, owner, new.id)

    assert found is not None
    assert (found.name, found.system, found.model, found.description) == (
        "support",
        new.system,
        "openai/gpt-4o-mini",
        "answers support mail",
    )
    assert found.llm_config == new.llm_config
    assert sorted(found.tags) == ["eu", "tier-1"]
    assert found.metadata == {"team": "care", "nested": {"n": [1, 2]}}
    assert found.tool_rules == new.tool_rules
    assert found.options == {"timezone": "Europe/Paris"}
    assert found.embedding == "openai/text-embedding-3-small"
    assert [(b.label, b.value) for b in found.blocks] == [("human", "Ada"), ("persona", "kind")]
    assert [t.name for t in found.tools] == ["lookup_order"]
    assert found.created_at == T0 and found.updated_at == T0
    assert found.last_stop_reason is None and found.last_run_completion is None


async def test_another_owner_cannot_see_or_delete_an_agent(db: Database, owner: str) -> None:
    mine = await store_agent(db, agent(owner))
    stranger = f"{owner}-other"

    async with db.write() as conn:
        assert await agent_store.get_agent(conn, stranger, mine.id) is None
        assert await agent_store.load_agents(conn, stranger, [mine.id]) == {}
        assert await agent_store.list_agents(conn, stranger, PageRequest()) == []
        assert await agent_store.lock_agent(conn, stranger, mine.id) is False
        assert await agent_store.agent_models(conn, stranger, [mine.id]) == {}
        assert await agent_store.delete_agent(conn, stranger, mine.id) is False
    async with db.read() as conn:
        assert await agent_store.get_agent(conn, owner, mine.id) is not None
        assert await agent_store.lock_agent(conn, owner, mine.id) is True


async def test_load_agents_returns_only_those_that_exist(db: Database, owner: str) -> None:
    first = await store_agent(db, agent(owner, name="first", blocks=[block("human")]))
    second = await store_agent(db, agent(owner, name="second"))

    async with db.read() as conn:
        found = await agent_store.load_agents(conn, owner, [first.id, second.id, first.id, "agent-missing"])
        assert await agent_store.load_agents(conn, owner, []) == {}

    assert set(found) == {first.id, second.id}
    assert [b.label for b in found[first.id].blocks] == ["human"]
    assert found[second.id].blocks == []


async def _names(
    db: Database,
    owner: str,
    page: PageRequest,
    *,
    name: str | None = None,
    tags: Sequence[str] = (),
    match_all_tags: bool = False,
) -> list[str]:
    async with db.read() as conn:
        found = await agent_store.list_agents(
            conn, owner, page, name=name, tags=tags, match_all_tags=match_all_tags
        )
    return [a.name for a in found]


async def test_agents_list_newest_first_by_default_and_pages_are_exact(db: Database, owner: str) -> None:
    stored = [await store_agent(db, agent(owner, name=f"a{n}", created_at=at(n))) for n in range(5)]

    assert await _names(db, owner, PageRequest()) == ["a4", "a3", "a2", "a1", "a0"]
    assert await _names(db, owner, PageRequest(descending=False, limit=2)) == ["a0", "a1"]
    assert await _names(db, owner, PageRequest(after=stored[1].id, descending=False, limit=2)) == ["a2", "a3"]
    assert await _names(db, owner, PageRequest(before=stored[1].id)) == ["a4", "a3", "a2"]
    assert await _names(db, owner, PageRequest(after=stored[4].id, descending=False)) == []


async def test_agents_created_in_the_same_instant_still_page_without_loss(db: Database, owner: str) -> None:
    stored = [await store_agent(db, agent(owner, name=f"same{n}", created_at=T0)) for n in range(7)]
    seen: list[str] = []
    page = PageRequest(descending=False, limit=3)
    while True:
        async with db.read() as conn:
            found = await agent_store.list_agents(conn, owner, page)
        if not found:
            break
        seen.extend(a.id for a in found)
        page = PageRequest(after=found[-1].id, descending=False, limit=3)

    assert seen == sorted(a.id for a in stored)


@pytest.mark.parametrize(
    ("tags", "match_all", "expected"),
    [
        (["eu"], False, ["both", "eu-only"]),
        (["eu", "us"], False, ["both", "eu-only", "us-only"]),
        (["eu", "us"], True, ["both"]),
        (["mars"], False, []),
    ],
)
async def test_agents_filter_by_any_or_all_tags(
    db: Database, owner: str, tags: list[str], match_all: bool, expected: list[str]
) -> None:
    await store_agent(db, agent(owner, name="both", tags=["eu", "us"], created_at=at(1)))
    await store_agent(db, agent(owner, name="eu-only", tags=["eu"], created_at=at(2)))
    await store_agent(db, agent(owner, name="us-only", tags=["us", "us"], created_at=at(3)))
    await store_agent(db, agent(owner, name="untagged", created_at=at(4)))

    names = await _names(db, owner, PageRequest(descending=False), tags=tags, match_all_tags=match_all)

    assert names == expected


async def test_agents_filter_by_exact_name(db: Database, owner: str) -> None:
    await store_agent(db, agent(owner, name="alpha"))
    await store_agent(db, agent(owner, name="alphabet"))

    assert await _names(db, owner, PageRequest(), name="alpha") == ["alpha"]


async def test_updating_columns_changes_only_those_and_moves_updated_at(db: Database, owner: str) -> None:
    stored = await store_agent(db, agent(owner, name="before", tags=["keep"]))
    later = T0 + timedelta(hours=1)

    async with db.write() as conn:
        await agent_store.update_agent_columns(
            conn, stored.id, {"name": "after", "metadata_json": {"v": 2}}, later
        )
    async with db.read() as conn:
        found = await agent_store.get_agent(conn, owner, stored.id)

    assert found is not None
    assert (found.name, found.metadata, found.system, found.tags) == (
        "after",
        {"v": 2},
        stored.system,
        ["keep"],
    )
    assert (found.created_at, found.updated_at) == (T0, later)


async def test_replacing_tags_changes_what_the_tag_filter_finds(db: Database, owner: str) -> None:
    stored = await store_agent(db, agent(owner, name="moving", tags=["old"]))

    async with db.write() as conn:
        await agent_store.replace_tags(conn, stored.id, ["new", "new", "other"])
    assert await _names(db, owner, PageRequest(), tags=["old"]) == []
    assert await _names(db, owner, PageRequest(), tags=["new", "other"], match_all_tags=True) == ["moving"]

    async with db.write() as conn:
        await agent_store.replace_tags(conn, stored.id, [])
    assert await _names(db, owner, PageRequest(), tags=["new"]) == []


async def _tool_names(db: Database, owner: str, agent_id: str) -> list[str]:
    async with db.read() as conn:
        found = await agent_store.get_agent(conn, owner, agent_id)
    assert found is not None
    return [t.name for t in found.tools]


async def test_tools_keep_the_order_they_were_attached_in(db: Database, owner: str) -> None:
    made = [tool(owner, name) for name in ("a_tool", "b_tool", "c_tool")]
    async with db.write() as conn:
        for one in made:
            await tool_store.insert_tool(conn, one, T0)
    stored = await store_agent(db, agent(owner))

    async with db.write() as conn:
        await agent_store.replace_tools(conn, stored.id, [made[2].id, made[0].id, made[2].id])
    assert await _tool_names(db, owner, stored.id) == ["c_tool", "a_tool"]

    async with db.write() as conn:
        assert await agent_store.attach_tool(conn, stored.id, made[1].id) is True
        assert await agent_store.attach_tool(conn, stored.id, made[1].id) is False
    assert await _tool_names(db, owner, stored.id) == ["c_tool", "a_tool", "b_tool"]

    async with db.write() as conn:
        assert await agent_store.detach_tool(conn, stored.id, made[0].id) is True
        assert await agent_store.detach_tool(conn, stored.id, made[0].id) is False
        assert await agent_store.attach_tool(conn, stored.id, made[0].id) is True
    assert await _tool_names(db, owner, stored.id) == ["c_tool", "b_tool", "a_tool"]


async def test_a_deleted_tool_leaves_the_agents_that_had_it(db: Database, owner: str) -> None:
    gone = tool(owner, "soon_gone")
    async with db.write() as conn:
        await tool_store.insert_tool(conn, gone, T0)
    stored = await store_agent(db, agent(owner, tools=[gone]))

    async with db.write() as conn:
        assert await tool_store.delete_tool(conn, owner, gone.id) is True

    assert await _tool_names(db, owner, stored.id) == []


async def test_deleting_an_agent_takes_its_tags_tool_links_history_and_own_blocks(
    db: Database, owner: str
) -> None:
    kept_tool = tool(owner, "kept_tool")
    async with db.write() as conn:
        await tool_store.insert_tool(conn, kept_tool, T0)
    doomed = await store_agent(
        db, agent(owner, tags=["x"], blocks=[block("human"), block("persona")], tools=[kept_tool])
    )
    async with db.write() as conn:
        await message_store.insert_messages(
            conn, owner, [message(doomed.id, "hi"), message(doomed.id, "there")]
        )
        assert await agent_store.delete_agent(conn, owner, doomed.id) is True
        assert await agent_store.delete_agent(conn, owner, doomed.id) is False

    async with db.read() as conn:
        assert await agent_store.get_agent(conn, owner, doomed.id) is None
        for table, column in (
            (agent_tags, agent_tags.c.agent_id),
            (agent_tools, agent_tools.c.agent_id),
            (messages, messages.c.agent_id),
        ):
            left = await conn.scalar(select(func.count()).select_from(table).where(column == doomed.id))
            assert left == 0, table.name
        own_blocks = [b.id for b in doomed.blocks]
        assert (
            await conn.scalar(select(func.count()).select_from(blocks).where(blocks.c.id.in_(own_blocks)))
            == 0
        )
        assert await tool_store.tools_by_id(conn, owner, [kept_tool.id]) != {}


async def test_importing_an_agent_with_a_block_already_stored_links_it_instead_of_copying(
    db: Database, owner: str
) -> None:
    shared = block("team", "shared notes")
    first = await store_agent(db, agent(owner, name="first", blocks=[shared]))
    second = await store_agent(db, agent(owner, name="second", blocks=[shared, block("human")]))

    async with db.read() as conn:
        stored = await block_store.get_block(conn, owner, shared.id)
        count = await conn.scalar(select(func.count()).select_from(blocks).where(blocks.c.id == shared.id))

    assert count == 1
    assert stored is not None and sorted(stored.agent_ids) == sorted([first.id, second.id])


@pytest.mark.parametrize(
    ("model", "llm_config", "expected"),
    [
        ("anthropic/claude-haiku-4-5", {"model": "ignored"}, "anthropic/claude-haiku-4-5"),
        (None, {"model": "gpt-4o", "model_endpoint_type": "openai"}, "openai/gpt-4o"),
        (None, {"model": "claude-x", "model_endpoint_type": "anthropic"}, "anthropic/claude-x"),
        (None, {"model": "bare"}, "openai/bare"),
    ],
)
async def test_an_agents_model_handle_comes_from_its_model_or_its_llm_config(
    db: Database, owner: str, model: str | None, llm_config: dict[str, str], expected: str
) -> None:
    new = agent(owner, model=model)
    new.llm_config = llm_config
    await store_agent(db, new)

    async with db.read() as conn:
        assert await agent_store.agent_models(conn, owner, [new.id, "agent-unknown"]) == {new.id: expected}


async def test_the_end_of_a_turn_is_recorded_on_each_agent(db: Database, owner: str) -> None:
    first = await store_agent(db, agent(owner))
    second = await store_agent(db, agent(owner))
    untouched = await store_agent(db, agent(owner))
    ended = T0 + timedelta(minutes=5)

    async with db.write() as conn:
        await agent_store.record_turn_end(conn, {first.id: "end_turn", second.id: "max_steps"}, ended)
        await agent_store.record_turn_end(conn, {}, ended)
        found = await agent_store.load_agents(conn, owner, [first.id, second.id, untouched.id])

    assert (found[first.id].last_stop_reason, found[first.id].last_run_completion) == ("end_turn", ended)
    assert found[second.id].last_stop_reason == "max_steps"
    assert (found[untouched.id].last_stop_reason, found[untouched.id].last_run_completion) == (None, None)
