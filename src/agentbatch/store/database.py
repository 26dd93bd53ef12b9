"""One database handle over SQLite or PostgreSQL: connections, pools and transactions. What differs
between the two in queries (row locks, inserts, stored times) is decided by ``store.dialect``.

- SQLite: WAL, ``busy_timeout``, foreign keys on; write transactions start with ``BEGIN IMMEDIATE`` and
  are serialised in-process, so readers never deadlock on a lock upgrade.
- PostgreSQL: asyncpg with a connection pool; many processes may share one database.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from agentbatch.store.dialect import POSTGRESQL, SQLITE
from agentbatch.store.nul_safety import dumps_json, scrub_parameters
from agentbatch.store.sqlite_one_trip import one_trip_dbapi

Connection = AsyncConnection
"""What store functions take: one connection inside one transaction."""


def async_url(url: str) -> str:
    """Pick the async driver for a plain ``sqlite://`` or ``postgresql://`` URL."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = async_url(url)
        self.dialect = SQLITE if self.url.startswith("sqlite") else POSTGRESQL
        self.is_sqlite = self.dialect.single_writer
        options: dict[str, Any] = {"json_serializer": dumps_json, "json_deserializer": orjson.loads}
        if self.is_sqlite:
            options.update(module=one_trip_dbapi())  # a statement, one hand-off to its thread
        else:
            options.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        _scrub_nul_characters(self.engine)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.connect() as conn:
            await conn.execution_options(sqlite_immediate=True)
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot (a deferred transaction on SQLite, READ COMMITTED on PostgreSQL)."""
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def _scrub_nul_characters(engine: AsyncEngine) -> None:
    """No NUL reaches a TEXT column (see ``nul_safety``)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute", retval=True)
    def _scrub(
        _conn: SyncConnection, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> tuple[str, Any]:
        return statement, scrub_parameters(parameters, many)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the driver so that BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA busy_timeout=30000",
            "PRAGMA foreign_keys=ON",
            # Up to 64 MiB of page cache per connection (SQLite's default is 2 MiB), used only as pages
            # are touched: a 100,000-item batch's rows and six indexes otherwise spill out of the cache
            # mid-insert; with it the bulk insert takes a third less CPU (benchmarks/overhead.py, accept).
            "PRAGMA cache_size=-65536",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: SyncConnection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
