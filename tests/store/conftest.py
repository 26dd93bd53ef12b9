"""A migrated database per test module, on SQLite and on PostgreSQL, for tests of the store on its own.

Each module gets one database (an SQLite file copied from a migrated template, or a PostgreSQL database
cloned from the session's migrated template) and every test in it gets its own ``owner`` and fresh ids,
so tests share the database without seeing each other's rows. A test that looks at a whole table
(expiry sweeps, key rings, orphan adoption) asks for ``fresh_db`` instead: the module's database emptied
for it.
"""

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentbatch.runtime.tools.base_tools import builtin_tools
from agentbatch.server import prepare_database
from agentbatch.store.database import Database
from agentbatch.store.tables import metadata
from agentbatch.store.tools import sync_builtin_tools
from tests.support.databases import PostgresTemplate

_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated (with the base tools) once; every module starts from a copy."""
    path = tmp_path_factory.mktemp("store-template") / "template.db"

    async def migrate() -> None:
        db = Database(f"sqlite:///{path}")
        try:
            await prepare_database(db)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(scope="module", params=_BACKENDS)
def store_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    postgres_template: PostgresTemplate | None,
) -> Iterator[str]:
    """This module's migrated database."""
    if request.param == "sqlite":
        copy = tmp_path_factory.mktemp("store") / "store.db"
        shutil.copyfile(sqlite_template, copy)
        yield f"sqlite:///{copy}"
        return
    if postgres_template is None:
        pytest.skip("PostgreSQL is not reachable (AGENTBATCH_TEST_PG, default 127.0.0.1:5432)")
    url = postgres_template.clone()
    try:
        yield url
    finally:
        postgres_template.drop(url)


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[Database]:
    database = Database(store_url)
    yield database
    await database.dispose()


async def _empty(database: Database) -> None:
    """Every row gone but the schema's and the base tools' (as they were migrated)."""
    async with database.write() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())
        await sync_builtin_tools(conn, builtin_tools(), datetime.now(UTC))


@pytest.fixture
async def fresh_db(store_url: str) -> AsyncIterator[Database]:
    """The module's database emptied, for a test that looks at whole tables; emptied again afterwards,
    so what the test leaves (or changes in the base tools) reaches no other test."""
    database = Database(store_url)
    await _empty(database)
    try:
        yield database
    finally:
        await _empty(database)
        await database.dispose()


@pytest.fixture
def owner() -> str:
    """An owner id of this test alone."""
    return f"user-{uuid.uuid4()}"
