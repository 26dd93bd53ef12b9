"""Memory blocks in the store: one block shared by several agents through ``agent_blocks``, found by
label per agent, kept in each agent's memory order, changed field by field, and kept while any agent
still uses it."""

from datetime import timedelta

from agentbatch.domain.agents import Block
from agentbatch.domain.paging import PageRequest
from agentbatch.store import agents as agent_store
from agentbatch.store import blocks as block_store
from agentbatch.store.database import Database
from tests.store.builders import T0, agent, at, block, store_agent

LATER = T0 + timedelta(minutes=10)


async def _stored_block(db: Database, owner: str, value: str = "", label: str = "notes") -> Block:
    new = block(label, value)
    async with db.write() as conn:
        await block_store.insert_block(conn, owner, new, T0)
    return new


async def _memory(db: Database, owner: str, agent_id: str) -> list[tuple[str, str]]:
    async with db.read() as conn:
        found = await agent_store.get_agent(conn, owner, agent_id)
    assert found is not None
    return [(b.label, b.value) for b in found.blocks]


async def test_a_block_reads_back_whole_and_only_for_its_owner(db: Database, owner: str) -> None:
    new = block("persona", "I am terse.", limit=1234, read_only=True)
    async with db.write() as conn:
        await block_store.insert_block(conn, owner, new, T0)

    async with db.read() as conn:
        found = await block_store.get_block(conn, owner, new.id)
        hidden = await block_store.get_block(conn, f"{owner}-other", new.id)

    assert hidden is None
    assert found is not None
    assert found.block == new
    assert (found.created_at, found.updated_at, found.agent_ids) == (T0, T0, [])


async def test_an_edit_to_a_shared_block_is_what_every_agent_sharing_it_sees(
    db: Database, owner: str
) -> None:
    shared = await _stored_block(db, owner, "v1", label="team")
    first = await store_agent(db, agent(owner, blocks=[block("human", "Ada")]))
    second = await store_agent(db, agent(owner))
    async with db.write() as conn:
        await block_store.attach_block(conn, shared.id, first.id, LATER)
        await block_store.attach_block(conn, shared.id, second.id, LATER)
        await block_store.update_block(conn, shared.id, {"value": "v2"}, LATER)

    assert await _memory(db, owner, first.id) == [("human", "Ada"), ("team", "v2")]
    assert await _memory(db, owner, second.id) == [("team", "v2")]
    async with db.read() as conn:
        stored = await block_store.get_block(conn, owner, shared.id)
    assert stored is not None
    assert sorted(stored.agent_ids) == sorted([first.id, second.id])
    assert stored.updated_at == LATER


async def test_a_label_names_one_block_per_agent_and_the_same_label_may_differ_between_agents(
    db: Database, owner: str
) -> None:
    first = await store_agent(db, agent(owner, blocks=[block("human", "Ada"), block("persona", "p1")]))
    second = await store_agent(db, agent(owner, blocks=[block("human", "Grace")]))

    async with db.read() as conn:
        ada = await block_store.agent_block(conn, first.id, "human")
        grace = await block_store.agent_block(conn, second.id, "human")
        missing = await block_store.agent_block(conn, second.id, "persona")

    assert ada is not None and grace is not None
    assert (ada.block.value, ada.agent_ids) == ("Ada", [first.id])
    assert (grace.block.value, grace.agent_ids) == ("Grace", [second.id])
    assert missing is None


async def test_an_agents_blocks_list_in_its_memory_order_and_filter_by_label(
    db: Database, owner: str
) -> None:
    stored = await store_agent(db, agent(owner, blocks=[block("b"), block("a")]))
    extra = await _stored_block(db, owner, label="c")
    async with db.write() as conn:
        await block_store.attach_block(conn, extra.id, stored.id, LATER)

    async with db.read() as conn:
        ordered = await block_store.list_blocks(
            conn, owner, PageRequest(descending=False), agent_id=stored.id
        )
        newest_first = await block_store.list_blocks(conn, owner, PageRequest(), agent_id=stored.id)
        labelled = await block_store.list_blocks(conn, owner, PageRequest(), agent_id=stored.id, label="a")
        foreign = await block_store.list_blocks(conn, f"{owner}-other", PageRequest(), agent_id=stored.id)

    assert [s.block.label for s in ordered] == ["b", "a", "c"]
    assert [s.block.label for s in newest_first] == ["c", "a", "b"]
    assert [s.block.label for s in labelled] == ["a"]
    assert foreign == []


async def test_all_of_an_owners_blocks_page_in_creation_order(db: Database, owner: str) -> None:
    made = []
    for n in range(5):
        new = block(f"label-{n}")
        async with db.write() as conn:
            await block_store.insert_block(conn, owner, new, at(n))
        made.append(new.id)

    seen: list[str] = []
    page = PageRequest(descending=False, limit=2)
    while True:
        async with db.read() as conn:
            found = await block_store.list_blocks(conn, owner, page)
        if not found:
            break
        seen.extend(s.block.id for s in found)
        page = PageRequest(after=found[-1].block.id, descending=False, limit=2)
    async with db.read() as conn:
        newest = await block_store.list_blocks(conn, owner, PageRequest(limit=1))

    assert seen == made
    assert [s.block.id for s in newest] == [made[-1]]


async def test_an_update_changes_only_the_fields_given(db: Database, owner: str) -> None:
    new = block("human", "Ada", limit=100)
    async with db.write() as conn:
        await block_store.insert_block(conn, owner, new, T0)
        await block_store.update_block(conn, new.id, {"limit": 500, "description": None}, LATER)
        found = await block_store.get_block(conn, owner, new.id)

    assert found is not None
    assert (found.block.label, found.block.value, found.block.limit) == ("human", "Ada", 500)
    assert found.block.description is None
    assert found.block.metadata == {"source": "test"}
    assert (found.created_at, found.updated_at) == (T0, LATER)


async def test_detaching_removes_only_that_link(db: Database, owner: str) -> None:
    shared = await _stored_block(db, owner, "kept", label="team")
    first = await store_agent(db, agent(owner))
    second = await store_agent(db, agent(owner))
    async with db.write() as conn:
        await block_store.attach_block(conn, shared.id, first.id, T0)
        await block_store.attach_block(conn, shared.id, second.id, T0)
        await block_store.detach_block(conn, shared.id, first.id, LATER)

    assert await _memory(db, owner, first.id) == []
    assert await _memory(db, owner, second.id) == [("team", "kept")]
    async with db.read() as conn:
        stored = await block_store.get_block(conn, owner, shared.id)
    assert stored is not None and stored.agent_ids == [second.id]


async def test_a_block_attached_again_goes_to_the_end_of_memory(db: Database, owner: str) -> None:
    stored = await store_agent(db, agent(owner, blocks=[block("first"), block("second")]))
    first_id = stored.blocks[0].id
    async with db.write() as conn:
        await block_store.detach_block(conn, first_id, stored.id, LATER)
        await block_store.attach_block(conn, first_id, stored.id, LATER)

    assert [label for label, _ in await _memory(db, owner, stored.id)] == ["second", "first"]


async def test_deleting_a_block_removes_it_from_every_agent(db: Database, owner: str) -> None:
    shared = await _stored_block(db, owner, label="team")
    first = await store_agent(db, agent(owner, blocks=[block("human")]))
    second = await store_agent(db, agent(owner))
    async with db.write() as conn:
        await block_store.attach_block(conn, shared.id, first.id, T0)
        await block_store.attach_block(conn, shared.id, second.id, T0)
        await block_store.delete_block(conn, shared.id)

    assert await _memory(db, owner, first.id) == [("human", "")]
    assert await _memory(db, owner, second.id) == []
    async with db.read() as conn:
        assert await block_store.get_block(conn, owner, shared.id) is None


async def test_deleting_an_agent_keeps_the_blocks_another_agent_uses(db: Database, owner: str) -> None:
    shared = await _stored_block(db, owner, "shared", label="team")
    leaving = await store_agent(db, agent(owner, blocks=[block("private", "mine")]))
    staying = await store_agent(db, agent(owner))
    async with db.write() as conn:
        await block_store.attach_block(conn, shared.id, leaving.id, T0)
        await block_store.attach_block(conn, shared.id, staying.id, T0)
        assert await agent_store.delete_agent(conn, owner, leaving.id)

    async with db.read() as conn:
        kept = await block_store.get_block(conn, owner, shared.id)
        private = await block_store.get_block(conn, owner, leaving.blocks[0].id)
    assert kept is not None and kept.agent_ids == [staying.id]
    assert private is None
    assert await _memory(db, owner, staying.id) == [("team", "shared")]


async def test_a_block_no_agent_uses_survives_an_agent_deletion(db: Database, owner: str) -> None:
    loose = await _stored_block(db, owner, "loose")
    leaving = await store_agent(db, agent(owner))
    async with db.write() as conn:
        await agent_store.delete_agent(conn, owner, leaving.id)
        assert await block_store.get_block(conn, owner, loose.id) is not None


async def test_a_turns_edit_is_written_when_nobody_changed_the_block_meanwhile(
    db: Database, owner: str
) -> None:
    stored = await _stored_block(db, owner, "likes tea")
    edited = Block(id=stored.id, label=stored.label, value="likes tea and jazz")

    async with db.write() as conn:
        await block_store.save_turn_edits(conn, [edited], {stored.id: "likes tea"}, LATER)
        found = await block_store.get_block(conn, owner, stored.id)

    assert found is not None
    assert (found.block.value, found.updated_at) == ("likes tea and jazz", LATER)


async def test_a_turns_edit_is_merged_into_a_change_made_meanwhile(db: Database, owner: str) -> None:
    stored = await _stored_block(db, owner, "name: Ada\ncity: Paris")
    async with db.write() as conn:
        await block_store.update_block(conn, stored.id, {"value": "name: Ada\ncity: Paris\npet: cat"}, T0)
    edited = Block(id=stored.id, label=stored.label, value="name: Ada Lovelace\ncity: Paris")

    async with db.write() as conn:
        await block_store.save_turn_edits(conn, [edited], {stored.id: "name: Ada\ncity: Paris"}, LATER)
        found = await block_store.get_block(conn, owner, stored.id)

    assert found is not None
    assert found.block.value == "name: Ada Lovelace\ncity: Paris\npet: cat"


async def test_a_turns_edit_of_a_block_deleted_meanwhile_writes_nothing(db: Database, owner: str) -> None:
    stored = await _stored_block(db, owner, "old")
    kept = await _stored_block(db, owner, "before")
    async with db.write() as conn:
        await block_store.delete_block(conn, stored.id)
        await block_store.lock_blocks(conn, {stored.id, kept.id})
        await block_store.save_turn_edits(
            conn,
            [
                Block(id=stored.id, label="notes", value="new"),
                Block(id=kept.id, label="notes", value="after"),
            ],
            {stored.id: "old", kept.id: "before"},
            LATER,
        )
        await block_store.save_turn_edits(conn, [], {}, LATER)
        assert await block_store.get_block(conn, owner, stored.id) is None
        found = await block_store.get_block(conn, owner, kept.id)

    assert found is not None and found.block.value == "after"
