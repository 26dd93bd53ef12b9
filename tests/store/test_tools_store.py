"""Tools in the store: the shared base tools (owner NULL) that every owner sees, each owner's own tools
that nobody else sees, names unique per owner, and an owner's tool shadowing a base tool's name."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from agentbatch.domain.agents import Tool, ToolType
from agentbatch.domain.paging import PageRequest
from agentbatch.runtime.tools.base_tools import builtin_tools
from agentbatch.store import tools as tool_store
from agentbatch.store.database import Database
from agentbatch.store.tables import tools as tools_table
from tests.store.builders import T0, at, tool

LATER = T0 + timedelta(days=1)


async def _insert(db: Database, *made: Tool) -> None:
    async with db.write() as conn:
        for one in made:
            await tool_store.insert_tool(conn, one, one.created_at or T0)


async def test_the_base_tools_are_seen_by_every_owner(db: Database, owner: str) -> None:
    names = {t.name for t in builtin_tools()}

    async with db.read() as conn:
        mine = await tool_store.tools_by_name(conn, owner, names)
        theirs = await tool_store.tools_by_name(conn, f"{owner}-other", names)

    assert set(mine) == names
    assert {t.id for t in mine.values()} == {t.id for t in theirs.values()}
    assert all(t.owner_id is None for t in mine.values())


async def test_syncing_the_base_tools_refreshes_them_in_place(fresh_db: Database) -> None:
    builtins = builtin_tools()
    async with fresh_db.read() as conn:
        before = await tool_store.tools_by_name(conn, "anyone", [t.name for t in builtins])
    changed = [builtins[0]]
    changed[0].description = "a newer description"

    async with fresh_db.write() as conn:
        await tool_store.sync_builtin_tools(conn, changed, LATER)
        await tool_store.sync_builtin_tools(conn, changed, LATER)
        after = await tool_store.tools_by_name(conn, "anyone", [t.name for t in builtins])
        count = await conn.scalar(
            select(func.count()).select_from(tools_table).where(tools_table.c.owner_id.is_(None))
        )

    assert count == len(builtins)
    assert {name: t.id for name, t in after.items()} == {name: t.id for name, t in before.items()}
    refreshed = after[changed[0].name]
    assert refreshed.description == "a newer description"
    assert (refreshed.created_at, refreshed.updated_at) == (before[changed[0].name].created_at, LATER)


async def test_a_new_base_tool_is_added_by_a_sync(fresh_db: Database) -> None:
    extra = tool(None, "brand_new_builtin")
    extra.tool_type = ToolType.LETTA_CORE

    async with fresh_db.write() as conn:
        await tool_store.sync_builtin_tools(conn, [extra], LATER)
        found = await tool_store.tools_by_name(conn, "someone", ["brand_new_builtin"])

    assert found["brand_new_builtin"].tool_type is ToolType.LETTA_CORE
    assert found["brand_new_builtin"].id.startswith("tool-")


async def test_a_custom_tool_reads_back_whole_for_its_owner_only(db: Database, owner: str) -> None:
    made = tool(owner, "fetch_weather")
    made.metadata = {"origin": "test", "version": 3}
    made.return_char_limit = 777
    await _insert(db, made)

    async with db.read() as conn:
        mine = await tool_store.tools_by_id(conn, owner, [made.id])
        theirs = await tool_store.tools_by_id(conn, f"{owner}-other", [made.id])
        by_name = await tool_store.tools_by_name(conn, f"{owner}-other", ["fetch_weather"])

    assert theirs == {} and by_name == {}
    found = mine[made.id]
    assert (found.name, found.tool_type, found.source_code, found.source_type) == (
        "fetch_weather",
        ToolType.CUSTOM,
        made.source_code,
        "python",
    )
    assert (found.json_schema, found.tags, found.metadata) == (made.json_schema, ["test"], made.metadata)
    assert (found.return_char_limit, found.owner_id, found.created_at) == (777, owner, T0)


async def test_an_owners_tool_wins_over_a_base_tool_of_the_same_name(db: Database, owner: str) -> None:
    base_name = builtin_tools()[0].name
    mine = tool(owner, base_name)
    await _insert(db, mine)

    async with db.read() as conn:
        for_me = await tool_store.tools_by_name(conn, owner, [base_name])
        for_others = await tool_store.tools_by_name(conn, f"{owner}-other", [base_name])

    assert for_me[base_name].id == mine.id
    assert for_others[base_name].owner_id is None


async def test_a_tool_name_is_unique_per_owner_but_free_across_owners(db: Database, owner: str) -> None:
    await _insert(db, tool(owner, "same_name"), tool(f"{owner}-other", "same_name"))

    with pytest.raises(IntegrityError):
        await _insert(db, tool(owner, "same_name"))
    async with db.read() as conn:
        assert len(await tool_store.list_tools(conn, owner, PageRequest(), name="same_name")) == 1


async def test_a_second_base_tool_with_a_taken_name_is_refused(db: Database) -> None:
    with pytest.raises(IntegrityError):
        await _insert(db, tool(None, builtin_tools()[0].name))


async def test_listing_shows_base_and_own_tools_and_pages_exactly(db: Database, owner: str) -> None:
    own = [tool(owner, f"own_{n}", created_at=at(3600 + n)) for n in range(3)]
    await _insert(db, *own, tool(f"{owner}-other", "not_mine", created_at=at(3600)))
    base_count = len(builtin_tools())

    seen: list[str] = []
    page = PageRequest(descending=False, limit=4)
    while True:
        async with db.read() as conn:
            found = await tool_store.list_tools(conn, owner, page)
        if not found:
            break
        seen.extend(t.name for t in found)
        page = PageRequest(after=found[-1].id, descending=False, limit=4)

    assert len(seen) == len(set(seen)) == base_count + 3
    assert [name for name in seen if name.startswith("own_")] == ["own_0", "own_1", "own_2"]
    assert "not_mine" not in seen


async def test_only_the_owner_deletes_a_tool_and_base_tools_cannot_be_deleted(
    db: Database, owner: str
) -> None:
    made = tool(owner, "deletable")
    await _insert(db, made)
    base = builtin_tools()[0].name

    async with db.write() as conn:
        base_id = (await tool_store.tools_by_name(conn, owner, [base]))[base].id
        assert await tool_store.delete_tool(conn, f"{owner}-other", made.id) is False
        assert await tool_store.delete_tool(conn, owner, base_id) is False
        assert await tool_store.delete_tool(conn, owner, made.id) is True
        assert await tool_store.delete_tool(conn, owner, made.id) is False
        assert await tool_store.tools_by_id(conn, owner, [made.id, base_id]) != {}
        assert made.id not in await tool_store.tools_by_id(conn, owner, [made.id, base_id])


async def test_replacing_a_tool_keeps_its_id_owner_and_creation_time(db: Database, owner: str) -> None:
    made = tool(owner, "v1_name")
    await _insert(db, made)
    replacement = tool(owner, "v2_name")
    replacement.id = made.id
    replacement.owner_id = f"{owner}-thief"
    replacement.source_code = "def v2_name():\n    return 'two'\n"

    async with db.write() as conn:
        await tool_store.replace_tool(conn, replacement, LATER)
        found = (await tool_store.tools_by_id(conn, owner, [made.id]))[made.id]

    assert (found.name, found.source_code) == ("v2_name", replacement.source_code)
    assert (found.owner_id, found.created_at, found.updated_at) == (owner, T0, LATER)


async def test_lookups_of_nothing_ask_nothing(db: Database, owner: str) -> None:
    async with db.read() as conn:
        assert await tool_store.tools_by_name(conn, owner, []) == {}
        assert await tool_store.tools_by_id(conn, owner, []) == {}
