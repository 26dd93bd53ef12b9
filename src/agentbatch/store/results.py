"""Reading a batch's finished requests for the results ledger, a page at a time, in item order.

``walk`` pages through a batch's items by ``seq`` (index ``(batch_id, seq)``) and reports each page's
finished requests in full and the ``seq`` of the others, so a follower can remember just those numbers
and later ask which of them have finished (``finished_among``). Nothing here holds more than a page of
requests at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.batches import BatchItem
from agentbatch.domain.messages import Message
from agentbatch.domain.states import UNFINISHED_ITEM_STATUSES, BatchStatus
from agentbatch.domain.turn_request_json import request_from_json
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.store.batches import item_from_row
from agentbatch.store.messages import message_from_row
from agentbatch.store.tables import batch_items, batches, messages

_UNFINISHED = [status.value for status in UNFINISHED_ITEM_STATUSES]


@dataclass(slots=True)
class FinishedRequest:
    """One ended request: the item, the request its turn ran, and the messages the turn wrote."""

    item: BatchItem
    request: TurnRequest
    messages: list[Message] = field(default_factory=list)


@dataclass(slots=True)
class WalkPage:
    finished: list[FinishedRequest]
    unfinished_seqs: list[int]
    last_seq: int | None
    """The cursor for the next page; None when the walk has passed the last item."""


async def walk(conn: AsyncConnection, batch_id: str, after_seq: int, limit: int) -> WalkPage:
    rows = (
        await conn.execute(
            select(batch_items.c.seq, batch_items.c.status)
            .where(batch_items.c.batch_id == batch_id, batch_items.c.seq > after_seq)
            .order_by(batch_items.c.seq)
            .limit(limit)
        )
    ).all()
    done = [row.seq for row in rows if row.status not in _UNFINISHED]
    return WalkPage(
        finished=await finished_requests(conn, batch_id, done),
        unfinished_seqs=[row.seq for row in rows if row.status in _UNFINISHED],
        last_seq=rows[-1].seq if len(rows) == limit else None,
    )


async def finished_among(conn: AsyncConnection, batch_id: str, low: int, high: int) -> list[int]:
    """The ``seq`` of every finished item of the batch with ``low <= seq <= high``, ascending."""
    rows = await conn.execute(
        select(batch_items.c.seq)
        .where(
            batch_items.c.batch_id == batch_id,
            batch_items.c.seq.between(low, high),
            batch_items.c.status.not_in(_UNFINISHED),
        )
        .order_by(batch_items.c.seq)
    )
    return [row.seq for row in rows]


async def finished_requests(
    conn: AsyncConnection, batch_id: str, seqs: Sequence[int]
) -> list[FinishedRequest]:
    """The named finished items with their turns' messages, in ``seq`` order: two queries."""
    if not seqs:
        return []
    rows = await conn.execute(
        select(batch_items)
        .where(batch_items.c.batch_id == batch_id, batch_items.c.seq.in_(list(seqs)))
        .order_by(batch_items.c.seq)
    )
    found = {
        row._mapping["id"]: FinishedRequest(item_from_row(row), request_from_json(row._mapping["request"]))
        for row in rows
    }
    if found:
        written = await conn.execute(
            select(messages).where(messages.c.batch_item_id.in_(list(found))).order_by(messages.c.seq)
        )
        for message in map(message_from_row, written):
            assert message.batch_item_id is not None
            found[message.batch_item_id].messages.append(message)
    return list(found.values())


async def batch_status(conn: AsyncConnection, batch_id: str) -> BatchStatus | None:
    status = (await conn.execute(select(batches.c.status).where(batches.c.id == batch_id))).scalar()
    return None if status is None else BatchStatus(status)
