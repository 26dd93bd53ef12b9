"""The worker registry: which worker processes are alive (their heartbeats), for sharing limits."""

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.store.tables import workers


async def register_worker(
    conn: AsyncConnection, worker_id: str, hostname: str, pid: int, now: datetime
) -> None:
    await conn.execute(
        insert(workers).values(id=worker_id, hostname=hostname, pid=pid, started_at=now, heartbeat_at=now)
    )


async def worker_heartbeat(conn: AsyncConnection, worker_id: str, now: datetime) -> None:
    await conn.execute(update(workers).where(workers.c.id == worker_id).values(heartbeat_at=now))


async def unregister_worker(conn: AsyncConnection, worker_id: str) -> None:
    await conn.execute(delete(workers).where(workers.c.id == worker_id))


async def live_workers(conn: AsyncConnection, alive_since: datetime) -> int:
    """How many workers have shown a heartbeat since ``alive_since``."""
    count = await conn.scalar(
        select(func.count()).select_from(workers).where(workers.c.heartbeat_at >= alive_since)
    )
    return int(count or 0)


async def forget_workers(conn: AsyncConnection, silent_since: datetime) -> int:
    """Remove workers whose last heartbeat is older than ``silent_since`` (the sweeper's job)."""
    rows = await conn.execute(
        delete(workers).where(workers.c.heartbeat_at < silent_since).returning(workers.c.id)
    )
    return len(rows.all())
