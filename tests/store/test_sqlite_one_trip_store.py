"""SQLite statements in one hand-off to the connection's thread (``store/sqlite_one_trip.py``): what
SQLAlchemy reads back (rows, counts, ids, errors) is what the plain driver gives, one hand-off each."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from agentbatch.store import sqlite_one_trip
from agentbatch.store.database import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'one-trip.db'}")
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)"))
    yield database
    await database.dispose()


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements handed to a connection's thread, in order."""
    seen: list[str] = []
    run = sqlite_one_trip._run

    def counted(conn: object, sql: str, parameters: object, many: bool) -> sqlite_one_trip.Outcome:
        seen.append(sql)
        return run(conn, sql, parameters, many)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite_one_trip, "_run", counted)
    return seen


async def test_rows_counts_and_ids_come_back_as_the_driver_gives_them(db: Database) -> None:
    async with db.write() as conn:
        inserted = await conn.execute(text("INSERT INTO notes (body) VALUES ('first')"))
        assert inserted.lastrowid == 1
        await conn.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "second"}, {"body": "third"}]
        )
        changed = await conn.execute(text("UPDATE notes SET body = body || '!' WHERE id > 1"))
        assert changed.rowcount == 2
        returned = await conn.execute(
            text("UPDATE notes SET body = upper(body) WHERE id < 3 RETURNING id, body")
        )
        assert sorted(returned.all()) == [(1, "FIRST"), (2, "SECOND!")]
    async with db.read() as conn:
        result = await conn.execute(text("SELECT id, body FROM notes ORDER BY id"))
        assert list(result.keys()) == ["id", "body"]
        assert result.all() == [(1, "FIRST"), (2, "SECOND!"), (3, "third!")]
        assert (await conn.execute(text("SELECT body FROM notes WHERE id = 99"))).first() is None


async def test_each_statement_is_one_hand_off(db: Database, hand_offs: list[str]) -> None:
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        await conn.execute(text("SELECT body FROM notes"))
    assert hand_offs == ["BEGIN IMMEDIATE", "INSERT INTO notes (body) VALUES ('a')", "SELECT body FROM notes"]


async def test_a_failing_statement_raises_the_drivers_error_and_nothing_of_its_transaction_stays(
    db: Database,
) -> None:
    with pytest.raises(exc.IntegrityError, match="UNIQUE"):
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('kept?')"))
            await conn.execute(text("INSERT INTO notes (body) VALUES ('kept?')"))
    with pytest.raises(exc.OperationalError, match="no such table"):
        async with db.read() as conn:
            await conn.execute(text("SELECT * FROM missing"))
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0
    async with db.write() as conn:  # the connections that failed still work
        await conn.execute(text("INSERT INTO notes (body) VALUES ('after')"))
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT body FROM notes"))).scalars().all() == ["after"]


async def test_a_large_result_arrives_whole(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": f"note {n}"} for n in range(5_000)]
        )
    async with db.read() as conn:
        bodies = (await conn.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
    assert len(bodies) == 5_000 and bodies[0] == "note 0" and bodies[-1] == "note 4999"


async def test_a_disposed_database_reconnects_for_the_next_statement(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('before')"))
    await db.dispose()
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT body FROM notes"))).scalars().all() == ["before"]
