"""Every list of the store pages the way the SDK walks it: exclusive ``after``/``before`` ids, a page no
longer than asked, and a cursor is an id of that same list — an id of another owner's record (or of
nothing) is a clear error, never a silent restart from the top."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from agentbatch.domain.errors import InvalidRequest
from agentbatch.domain.paging import PageRequest
from agentbatch.store import agents as agent_store
from agentbatch.store import batches as batch_store
from agentbatch.store import blocks as block_store
from agentbatch.store import messages as message_store
from agentbatch.store import tools as tool_store
from agentbatch.store.database import Connection, Database
from tests.store.builders import agent, agent_ids, at, block, message, store_agent, store_batch, tool


@dataclass(frozen=True, slots=True)
class Listing:
    """One kind of list: how to add a record for an owner (its id), and how to read a page of them."""

    make: Callable[[Database, str, int], Awaitable[str]]
    page: Callable[[Connection, str, PageRequest], Awaitable[list[str]]]


async def _make_agent(db: Database, owner: str, n: int) -> str:
    return (await store_agent(db, agent(owner, name=f"a{n}", created_at=at(n)))).id


async def _agents(conn: Connection, owner: str, page: PageRequest) -> list[str]:
    return [a.id for a in await agent_store.list_agents(conn, owner, page)]


async def _make_tool(db: Database, owner: str, n: int) -> str:
    made = tool(owner, f"tool_{n}", created_at=at(n))
    async with db.write() as conn:
        await tool_store.insert_tool(conn, made, at(n))
    return made.id


async def _tools(conn: Connection, owner: str, page: PageRequest) -> list[str]:
    return [t.id for t in await tool_store.list_tools(conn, owner, page)]


async def _make_block(db: Database, owner: str, n: int) -> str:
    made = block(f"label_{n}")
    async with db.write() as conn:
        await block_store.insert_block(conn, owner, made, at(n))
    return made.id


async def _blocks(conn: Connection, owner: str, page: PageRequest) -> list[str]:
    return [s.block.id for s in await block_store.list_blocks(conn, owner, page)]


async def _make_batch(db: Database, owner: str, n: int) -> str:
    return (await store_batch(db, owner, agent_ids(1), created_at=at(n))).id


async def _batches(conn: Connection, owner: str, page: PageRequest) -> list[str]:
    return [b.id for b in await batch_store.list_batches(conn, owner, page)]


_TALKERS: dict[str, str] = {}


async def _make_message(db: Database, owner: str, n: int) -> str:
    if owner not in _TALKERS:
        _TALKERS[owner] = (await store_agent(db, agent(owner))).id
    made = message(_TALKERS[owner], f"m{n}")
    async with db.write() as conn:
        await message_store.insert_messages(conn, owner, [made])
    return made.id


async def _messages(conn: Connection, owner: str, page: PageRequest) -> list[str]:
    talker = _TALKERS.get(owner, "agent-none")
    return [m.id for m in await message_store.list_agent_messages(conn, owner, talker, page)]


LISTINGS = [
    pytest.param(Listing(_make_agent, _agents), id="agents"),
    pytest.param(Listing(_make_tool, _tools), id="tools"),
    pytest.param(Listing(_make_block, _blocks), id="blocks"),
    pytest.param(Listing(_make_batch, _batches), id="batches"),
    pytest.param(Listing(_make_message, _messages), id="messages"),
]


async def _read(db: Database, listing: Listing, owner: str, page: PageRequest) -> list[str]:
    async with db.read() as conn:
        return await listing.page(conn, owner, page)


def _only(ids: list[str], found: list[str]) -> list[str]:
    """The records this test made, in the order found (the tools list also holds the base tools)."""
    made = set(ids)
    return [one for one in found if one in made]


@pytest.mark.parametrize("listing", LISTINGS)
async def test_a_walk_in_either_order_visits_every_record_once_and_ends_empty(
    db: Database, owner: str, listing: Listing
) -> None:
    ids = [await listing.make(db, owner, n) for n in range(5)]

    for descending in (False, True):
        seen: list[str] = []
        page = PageRequest(limit=2, descending=descending)
        while found := await _read(db, listing, owner, page):
            assert len(found) <= 2
            seen.extend(found)
            page = PageRequest(after=found[-1], limit=2, descending=descending)
        assert len(seen) == len(set(seen))
        assert _only(ids, seen) == (ids[::-1] if descending else ids)


@pytest.mark.parametrize("listing", LISTINGS)
async def test_before_and_after_are_exclusive_bounds(db: Database, owner: str, listing: Listing) -> None:
    ids = [await listing.make(db, owner, n) for n in range(5)]

    between = await _read(db, listing, owner, PageRequest(after=ids[0], before=ids[4], descending=False))
    before = await _read(db, listing, owner, PageRequest(before=ids[2], descending=False))
    after_newest = await _read(db, listing, owner, PageRequest(after=ids[3]))

    assert between == ids[1:4]
    assert _only(ids, before) == ids[:2]
    assert _only(ids, after_newest) == ids[2::-1]


@pytest.mark.parametrize("listing", LISTINGS)
async def test_a_cursor_from_another_owners_list_is_refused(
    db: Database, owner: str, listing: Listing
) -> None:
    await listing.make(db, owner, 0)
    foreign = await listing.make(db, f"{owner}-other", 1)

    for page in (PageRequest(after=foreign), PageRequest(before=foreign)):
        with pytest.raises(InvalidRequest, match="cursor"):
            await _read(db, listing, owner, page)
