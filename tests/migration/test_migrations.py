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
