"""Extension: ``GET /v1/messages/batches/{id}/results``, the results ledger as JSON Lines.

One line per finished request. The lines present when the call is made come in item order (the order of
the create body); with ``follow=true`` the response then stays open and each request that finishes later
gets its line as soon as a poll sees it (every ``results_poll_s``), until every request has finished (the
batch has ended) or ``results_follow_max_s`` has passed. Read a page at a time; the follower remembers
only the numbers (``seq``) of the requests still unfinished.
"""

import asyncio
import bisect
import time
from array import array
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from agentbatch.api.auth import caller
from agentbatch.api.routes.batches import BatchId
from agentbatch.api.services import ApiServices, services
from agentbatch.api.views.results import result_line
from agentbatch.domain.errors import NotFound
from agentbatch.store import batches as batch_store
from agentbatch.store import results as result_store
from agentbatch.store.database import Database
from agentbatch.store.results import FinishedRequest

router = APIRouter(prefix="/v1/messages/batches", tags=["batches"])
MEDIA_TYPE = "application/x-ndjson"
_PAGE = 200


@router.get(
    "/{batch_id}/results",
    summary="Extension: one JSON line per finished request (custom_id, text, usage, cost, …)",
    response_class=StreamingResponse,
    responses={200: {"content": {MEDIA_TYPE: {}}}},
)
async def batch_results(
    batch_id: str = BatchId,
    follow: bool = Query(default=False, description="Stay open until every request has finished."),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> StreamingResponse:
    async with svc.db.read() as conn:
        if await batch_store.get_batch(conn, owner, batch_id) is None:
            raise NotFound(f"Batch {batch_id} not found")
    settings = svc.settings
    lines = _lines(svc.db, batch_id, follow, settings.results_poll_s, settings.results_follow_max_s)
    return StreamingResponse(lines, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-store"})


async def _lines(
    db: Database, batch_id: str, follow: bool, poll_s: float, max_s: float
) -> AsyncIterator[bytes]:
    deadline = time.monotonic() + max_s
    unfinished = array("q")
    after: int | None = 0
    while after is not None:
        async with db.read() as conn:
            page = await result_store.walk(conn, batch_id, after, _PAGE)
        if page.finished:
            yield _encode(page.finished)
        if follow:
            unfinished.extend(page.unfinished_seqs)
        after = page.last_seq
    while unfinished and time.monotonic() < deadline:
        await asyncio.sleep(poll_s)
        async with db.read() as conn:
            status = await result_store.batch_status(conn, batch_id)
            done = await result_store.finished_among(conn, batch_id, unfinished[0], unfinished[-1])
        newly = [seq for seq in done if _contains(unfinished, seq)]
        if newly:
            gone = set(newly)
            unfinished = array("q", (seq for seq in unfinished if seq not in gone))
            for start in range(0, len(newly), _PAGE):
                async with db.read() as conn:
                    found = await result_store.finished_requests(conn, batch_id, newly[start : start + _PAGE])
                yield _encode(found)
        elif status is None or status.is_terminal:
            return  # the batch has ended: nothing more will finish


def _contains(sorted_seqs: "array[int]", seq: int) -> bool:
    index = bisect.bisect_left(sorted_seqs, seq)
    return index < len(sorted_seqs) and sorted_seqs[index] == seq


def _encode(found: list[FinishedRequest]) -> bytes:
    return b"".join(orjson.dumps(result_line(request)) + b"\n" for request in found)
