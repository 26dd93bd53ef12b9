"""Figures read from the database at each ``/metrics`` scrape, each through an index:
unfinished batches by status, the items of unfinished batches by status, ready items per model."""

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.states import UNFINISHED_BATCH_STATUSES, ItemStatus
from agentbatch.store.item_predicates import item_is_claimable
from agentbatch.store.tables import batch_items, batches


@dataclass(slots=True)
class QueueGauges:
    batches_by_status: dict[str, int] = field(default_factory=dict)
    items_by_status: dict[str, int] = field(default_factory=dict)
    ready_by_model: dict[str, int] = field(default_factory=dict)
    running_items: int = 0


async def read_queue_gauges(conn: AsyncConnection) -> QueueGauges:
    unfinished = [status.value for status in UNFINISHED_BATCH_STATUSES]
    gauges = QueueGauges()
    for status, count in await conn.execute(
        select(batches.c.status, func.count())
        .where(batches.c.status.in_(unfinished))
        .group_by(batches.c.status)
    ):
        gauges.batches_by_status[status] = count
    live = select(batches.c.id).where(batches.c.status.in_(unfinished)).scalar_subquery()
    for status, count in await conn.execute(
        select(batch_items.c.status, func.count())
        .where(batch_items.c.batch_id.in_(live))
        .group_by(batch_items.c.status)
    ):
        gauges.items_by_status[status] = count
    for model, count in await conn.execute(
        select(batch_items.c.model, func.count()).where(item_is_claimable).group_by(batch_items.c.model)
    ):
        gauges.ready_by_model[model] = count
    gauges.running_items = (
        await conn.execute(
            select(func.count())
            .select_from(batch_items)
            .where(batch_items.c.status == ItemStatus.RUNNING.value)
        )
    ).scalar_one()
    return gauges
