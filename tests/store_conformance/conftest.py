"""One work queue per implementation: in memory, SQL on SQLite, SQL on PostgreSQL (where reachable).

Every test of this folder runs against each, through the port (``store.work_queue.WorkQueue``) and a
``Seeder`` that fills the queue the way that implementation is filled in production."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import select

from agentbatch.domain.batches import Batch
from agentbatch.domain.states import BatchStatus
from agentbatch.server import prepare_database
from agentbatch.store.batches import insert_batch
from agentbatch.store.database import Database
from agentbatch.store.memory_work_queue import MemoryWorkQueue
from agentbatch.store.new_items import NewItem
from agentbatch.store.queue import insert_items
from agentbatch.store.sql_work_queue import SqlWorkQueue
from agentbatch.store.tables import batches
from agentbatch.store.work_queue import WorkQueue
from tests.support.databases import PostgresTemplate


class Seeder(Protocol):
    async def batch(
        self,
        batch_id: str,
        items: list[NewItem],
        now: datetime,
        *,
        priority: int = 0,
        expires_at: datetime | None = None,
    ) -> None: ...

    async def send(self, item: NewItem, now: datetime) -> None:
        """Queue a synchronous send's item (no batch)."""
        ...

    async def batch_status(self, batch_id: str) -> BatchStatus: ...


@dataclass
class QueueUnderTest:
    port: WorkQueue
    seed: Seeder
    name: str


class _MemorySeeder:
    def __init__(self, queue: MemoryWorkQueue) -> None:
        self._queue = queue

    async def batch(
        self,
        batch_id: str,
        items: list[NewItem],
        now: datetime,
        *,
        priority: int = 0,
        expires_at: datetime | None = None,
    ) -> None:
        self._queue.add_batch(batch_id, items, now, priority=priority, expires_at=expires_at)

    async def send(self, item: NewItem, now: datetime) -> None:
        self._queue.add_items(None, [item])

    async def batch_status(self, batch_id: str) -> BatchStatus:
        return self._queue.batches[batch_id].batch.status


class _SqlSeeder:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def batch(
        self,
        batch_id: str,
        items: list[NewItem],
        now: datetime,
        *,
        priority: int = 0,
        expires_at: datetime | None = None,
    ) -> None:
        batch = Batch(
            id=batch_id,
            owner_id="owner",
            status=BatchStatus.CREATED,
            request_count=len(items),
            created_at=now,
            updated_at=now,
            expires_at=expires_at,
            priority=priority,
        )
        async with self._db.write() as conn:
            await insert_batch(conn, batch, items)

    async def send(self, item: NewItem, now: datetime) -> None:
        async with self._db.write() as conn:
            await insert_items(conn, None, "owner", [item], now)

    async def batch_status(self, batch_id: str) -> BatchStatus:
        async with self._db.read() as conn:
            status = await conn.scalar(select(batches.c.status).where(batches.c.id == batch_id))
        return BatchStatus(str(status))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def queue_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_template: PostgresTemplate | None
) -> Iterator[str | None]:
    """None for the in-memory queue, else the database the SQL queue runs on."""
    if request.param == "memory":
        yield None
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'agentbatch.db'}"
    elif postgres_template is None:
        pytest.skip("PostgreSQL is not reachable")
    else:
        url = postgres_template.clone()
        yield url
        postgres_template.drop(url)


@pytest.fixture
async def work_queue(queue_url: str | None) -> AsyncIterator[QueueUnderTest]:
    if queue_url is None:
        memory = MemoryWorkQueue()
        yield QueueUnderTest(memory, _MemorySeeder(memory), "memory")
        return
    db = Database(queue_url)
    try:
        await prepare_database(db)
        yield QueueUnderTest(SqlWorkQueue(db), _SqlSeeder(db), db.dialect.name)
    finally:
        await db.dispose()
