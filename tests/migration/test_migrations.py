"""Migrations build exactly the schema in ``store/tables.py``, on both databases, and re-run harmlessly."""

from agentbatch.store.database import Database
from agentbatch.store.migrate import schema_drift, upgrade


async def test_upgrade_from_empty_matches_the_tables_and_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db)
        await upgrade(db)
        assert await schema_drift(db) == []
    finally:
        await db.dispose()


def test_the_heads_read_from_the_files_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    from agentbatch.store.migrate import alembic_config, head_revisions

    assert head_revisions() == frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def test_a_database_behind_the_newest_schema_is_still_migrated(sqlite_url: str) -> None:
    """(SQLite: an empty file to start from; the PostgreSQL fixture starts from a migrated template.)"""
    from alembic import command
    from sqlalchemy import text

    from agentbatch.store.migrate import alembic_config, at_head

    db = Database(sqlite_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0001"))
        assert not await at_head(db)

        await upgrade(db)

        assert await at_head(db)
        assert await schema_drift(db) == []
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar() == 1
    finally:
        await db.dispose()
