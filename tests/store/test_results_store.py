"""The results ledger's walk (``store/results.py``): a batch's items page by page in submission order,
each page split into finished requests (with the request they ran and the messages their turn wrote)
and the ``seq`` numbers of the unfinished, which a follower later asks about."""

from agentbatch.domain.messages import Role
from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason
from agentbatch.store import messages as message_store
from agentbatch.store import results
from agentbatch.store.database import Database
from tests.store.builders import (
    StoredBatch,
    agent,
    agent_ids,
    finish_item,
    message,
    request,
    store_agent,
    store_batch,
)


async def _walk_all(db: Database, batch_id: str, limit: int) -> tuple[list[str], list[int], int]:
    """Every page from the start; the finished items' custom ids, the unfinished seqs, pages read."""
    finished: list[str] = []
    unfinished: list[int] = []
    after, pages = 0, 0
    while True:
        async with db.read() as conn:
            page = await results.walk(conn, batch_id, after, limit)
        pages += 1
        finished.extend(str(f.item.custom_id) for f in page.finished)
        unfinished.extend(page.unfinished_seqs)
        if page.last_seq is None:
            return finished, unfinished, pages
        after = page.last_seq


async def _batch(db: Database, owner: str, count: int) -> StoredBatch:
    return await store_batch(db, owner, agent_ids(count), custom_ids=[f"req-{n}" for n in range(count)])


async def test_a_walk_reports_finished_requests_in_submission_order(db: Database, owner: str) -> None:
    stored = await _batch(db, owner, 7)
    for n in (5, 0, 3, 6):
        await finish_item(db, stored.item_ids[n])

    finished, unfinished, pages = await _walk_all(db, stored.id, limit=3)

    assert finished == ["req-0", "req-3", "req-5", "req-6"]
    assert len(unfinished) == 3 and unfinished == sorted(unfinished)
    assert pages == 3


async def test_a_walk_whose_last_page_is_full_ends_with_an_empty_page(db: Database, owner: str) -> None:
    stored = await _batch(db, owner, 4)

    finished, unfinished, pages = await _walk_all(db, stored.id, limit=2)

    assert finished == [] and len(unfinished) == 4
    assert pages == 3


async def test_a_walk_sees_only_its_own_batch(db: Database, owner: str) -> None:
    mine = await _batch(db, owner, 2)
    other = await _batch(db, owner, 2)
    for item_id in mine.item_ids + other.item_ids:
        await finish_item(db, item_id)

    finished, _, _ = await _walk_all(db, mine.id, limit=10)
    async with db.read() as conn:
        none = await results.walk(conn, "job-missing", 0, 10)

    assert finished == ["req-0", "req-1"]
    assert (none.finished, none.unfinished_seqs, none.last_seq) == ([], [], None)


async def test_a_finished_request_carries_its_request_item_and_turn_messages(
    db: Database, owner: str
) -> None:
    talker = await store_agent(db, agent(owner))
    stored = await store_batch(db, owner, [talker.id], custom_ids=["ask"])
    item_id = stored.item_ids[0]
    async with db.write() as conn:
        await message_store.insert_messages(
            conn,
            owner,
            [
                message(talker.id, "request 0", batch_id=stored.id, item_id=item_id),
                message(talker.id, "an answer", role=Role.ASSISTANT, batch_id=stored.id, item_id=item_id),
                message(talker.id, "another turn", batch_id=stored.id, item_id="batch_item-elsewhere"),
            ],
        )
    await finish_item(db, item_id, StopReason.END_TURN, prompt_tokens=11, completion_tokens=2)

    async with db.read() as conn:
        page = await results.walk(conn, stored.id, 0, 10)

    (done,) = page.finished
    assert done.request == request("request 0")
    assert (done.item.id, done.item.custom_id, done.item.status) == (item_id, "ask", ItemStatus.SUCCEEDED)
    assert (done.item.prompt_tokens, done.item.completion_tokens) == (11, 2)
    assert [(m.role, m.text) for m in done.messages] == [
        (Role.USER, "request 0"),
        (Role.ASSISTANT, "an answer"),
    ]


async def test_a_follower_learns_which_remembered_requests_have_finished(db: Database, owner: str) -> None:
    stored = await _batch(db, owner, 5)
    async with db.read() as conn:
        first = await results.walk(conn, stored.id, 0, 10)
    waiting = first.unfinished_seqs
    assert len(waiting) == 5 and first.finished == []

    await finish_item(db, stored.item_ids[1])
    await finish_item(db, stored.item_ids[3], StopReason.LLM_API_ERROR)
    async with db.read() as conn:
        now_done = await results.finished_among(conn, stored.id, waiting[0], waiting[-1])
        narrow = await results.finished_among(conn, stored.id, waiting[2], waiting[4])
        fetched = await results.finished_requests(conn, stored.id, now_done)
        assert await results.finished_requests(conn, stored.id, []) == []

    assert now_done == [waiting[1], waiting[3]]
    assert narrow == [waiting[3]]
    assert [(f.item.custom_id, f.item.status) for f in fetched] == [
        ("req-1", ItemStatus.SUCCEEDED),
        ("req-3", ItemStatus.ERRORED),
    ]


async def test_finished_requests_ignore_seqs_of_another_batch(db: Database, owner: str) -> None:
    mine = await _batch(db, owner, 1)
    other = await _batch(db, owner, 1)
    await finish_item(db, other.item_ids[0])
    async with db.read() as conn:
        theirs = (await results.walk(conn, other.id, 0, 10)).finished[0]
        seq = await results.finished_among(conn, other.id, 0, 2**40)
        assert await results.finished_requests(conn, mine.id, seq) == []
    assert theirs.item.custom_id == "req-0"


async def test_the_batch_status_is_read_for_a_follower(db: Database, owner: str) -> None:
    stored = await _batch(db, owner, 1)

    async with db.read() as conn:
        assert await results.batch_status(conn, stored.id) is BatchStatus.CREATED
        assert await results.batch_status(conn, "job-missing") is None
