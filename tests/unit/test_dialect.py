"""The dialect object decides row locks per database: PostgreSQL locks, SQLite (one writer) does not."""

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from agentbatch.store.dialect import POSTGRESQL, SQLITE, dialect_named
from agentbatch.store.tables import batch_items


def _sql(query: object, on: object) -> str:
    return str(query.compile(dialect=on))  # type: ignore[attr-defined]


def test_postgresql_locks_rows_and_claims_skip_locked_rows() -> None:
    query = select(batch_items.c.id)

    assert _sql(POSTGRESQL.lock(query), postgresql.dialect()).endswith("FOR UPDATE")
    assert _sql(POSTGRESQL.lock_for_update_of_row(query), postgresql.dialect()).endswith("FOR NO KEY UPDATE")
    assert _sql(POSTGRESQL.claim_lock(query), postgresql.dialect()).endswith("FOR UPDATE SKIP LOCKED")


def test_sqlite_leaves_queries_unlocked() -> None:
    query = select(batch_items.c.id)

    for locked in (SQLITE.lock(query), SQLITE.lock_for_update_of_row(query), SQLITE.claim_lock(query)):
        assert "FOR " not in _sql(locked, sqlite.dialect())


def test_the_dialect_is_found_by_name() -> None:
    assert dialect_named("postgresql") is POSTGRESQL
    assert dialect_named("sqlite") is SQLITE
    assert SQLITE.single_writer and SQLITE.naive_times and not SQLITE.locks_rows
    assert POSTGRESQL.locks_rows and not POSTGRESQL.single_writer
