"""Bring a database to the newest schema. Runs at every start; safe when many processes start at once.

A database already at the newest revision is left alone without loading Alembic: one read of
``alembic_version`` against the heads named by the migration files. Alembic (and the template engine
it brings) is imported only when there is something to migrate, which is most of a restart's start-up
saved (agentbatch.performance; ``benchmarks/overhead.py``: ``serve`` ready).
"""

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from agentbatch.store.database import Database
from agentbatch.store.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 0x6167656E74626174  # "agentbat": one migrator at a time across processes
_REVISION = re.compile(r"^revision(?:\s*:[^=]*)?\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]*)?\s*=\s*(.+)$", re.MULTILINE)


def alembic_config(connection: Connection | None = None) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revisions() -> frozenset[str]:
    """The revisions no migration builds on, read from the migration files (what Alembic calls heads)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        source = script.read_text()
        if (revision := _REVISION.search(source)) is not None:
            revisions.add(revision.group(1))
        if (down := _DOWN_REVISION.search(source)) is not None:
            parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return frozenset(revisions - parents)


async def at_head(db: Database) -> bool:
    """Whether the database's schema is the newest (False when it has none yet)."""
    heads = head_revisions()
    try:
        async with db.engine.connect() as conn:
            stamped = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:
        return False  # no schema yet
    return bool(heads) and frozenset(stamped) == heads


async def upgrade(db: Database) -> None:
    if await at_head(db):
        return
    async with db.engine.begin() as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        await conn.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


async def schema_drift(db: Database) -> list[object]:
    """Differences between the migrated database and ``tables.py`` (empty when they agree)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_drift)


def _drift(connection: Connection) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))
