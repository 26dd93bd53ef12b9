"""Batches as the operator's log reports them: which ended in a given transaction, with their counts."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.batches import Batch
from agentbatch.store.batches import with_progress
from agentbatch.store.tables import batches


async def batches_ended_at(conn: AsyncConnection, batch_ids: Iterable[str], now: datetime) -> list[Batch]:
    """Those of ``batch_ids`` whose end was written at ``now`` (the time of the current transaction)."""
    ids = list(set(batch_ids))
    if not ids:
        return []
    rows = (
        await conn.execute(select(batches).where(batches.c.id.in_(ids), batches.c.completed_at == now))
    ).all()
    return await with_progress(conn, rows)
