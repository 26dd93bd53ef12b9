"""Migrations build exactly the schema in ``store/tables.py``, on both databases, and re-run harmlessly."""

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from agentbatch.store.database import Database
from agentbatch.store.migrate import alembic_config, schema_drift, upgrade

NOW = datetime(2026, 11, 30, tzinfo=UTC)


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

    from agentbatch.store.migrate import head_revisions

    assert head_revisions() == frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def test_a_database_behind_the_newest_schema_is_still_migrated(sqlite_url: str) -> None:
    """(SQLite: an empty file to start from; the PostgreSQL fixture starts from a migrated template.)"""
    from agentbatch.store.migrate import at_head

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


async def test_blocks_attached_before_0009_stay_attached_and_owned(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
            await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0005"))
            await conn.execute(
                text(
                    "INSERT INTO agents (id, owner_id, name, agent_type, system, llm_config, tags, options, "
                    "created_at, updated_at) VALUES ('agent-1', 'user-1', 'a', 'memgpt_v2_agent', 's', "
                    "'{}', '[]', '{}', :now, :now)"
                ),
                {"now": NOW},
            )
            await conn.execute(
                text(
                    'INSERT INTO blocks (id, agent_id, owner_id, label, value, "limit", read_only, position, '
                    "created_at, updated_at) VALUES ('block-1', 'agent-1', NULL, 'human', 'Ada', 100, false, "
                    "3, "
                    ":now, :now)"
                ),
                {"now": NOW},
            )
        await upgrade(db)
        async with db.engine.connect() as conn:
            links = (await conn.execute(text("SELECT agent_id, block_id, position FROM agent_blocks"))).all()
            owner = await conn.scalar(text("SELECT owner_id FROM blocks WHERE id = 'block-1'"))
        assert [tuple(link) for link in links] == [("agent-1", "block-1", 3)]
        assert owner == "user-1"
        assert await schema_drift(db) == []
    finally:
        await db.dispose()
