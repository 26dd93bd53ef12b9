"""Fixtures shared by every tier: one ``database_url`` over SQLite and PostgreSQL."""

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agentbatch.server import prepare_database
from agentbatch.store.database import Database
from tests.support.databases import PostgresTemplate, postgres_reachable


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate | None]:
    if not postgres_reachable():
        yield None
        return
    template = PostgresTemplate()
    template.create()
    yield template
    template.destroy()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_template: PostgresTemplate | None
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'agentbatch.db'}"
        return
    if postgres_template is None:
        pytest.skip("PostgreSQL is not reachable")
    url = postgres_template.clone()
    yield url
    postgres_template.drop(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'agentbatch.db'}"


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session, never written to: tests take copies (``sqlite_copy``)."""
    path = tmp_path_factory.mktemp("migrated") / "agentbatch.db"

    async def migrate() -> None:
        database = Database(f"sqlite:///{path}")
        await prepare_database(database)
        await database.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture
async def sqlite_copy(migrated_sqlite_file: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database of this test's own, copied from the session's (no migration per test)."""
    copy = tmp_path / "agentbatch.db"
    shutil.copyfile(migrated_sqlite_file, copy)
    database = Database(f"sqlite:///{copy}")
    yield database
    await database.dispose()
