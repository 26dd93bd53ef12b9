"""Test databases: a fresh SQLite file, or a PostgreSQL clone of a migrated template.

PostgreSQL is used where reachable (``AGENTBATCH_TEST_PG`` overrides the server URL, default
``postgresql://postgres@127.0.0.1:5432/postgres``); tests that need it skip cleanly elsewhere.
"""

import asyncio
import os
import uuid

import asyncpg

from agentbatch.server import prepare_database
from agentbatch.store.database import Database

PG_ADMIN_URL = os.environ.get("AGENTBATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def postgres_reachable() -> bool:
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


class PostgresTemplate:
    """One migrated template per test session; each test gets ``CREATE DATABASE … TEMPLATE`` of it."""

    def __init__(self) -> None:
        self.name = f"agentbatch_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._clones: list[str] = []

    def create(self) -> None:
        asyncio.run(self._create())

    async def _create(self) -> None:
        await _admin(f'CREATE DATABASE "{self.name}"')
        db = Database(_with_database(PG_ADMIN_URL, self.name))
        await prepare_database(db)
        await db.dispose()

    def clone(self) -> str:
        name = f"agentbatch_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"'))
        self._clones.append(name)
        return _with_database(PG_ADMIN_URL, name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def destroy(self) -> None:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
