"""Every SQLite-vs-PostgreSQL decision of the store, in one object (``dialect_of(conn)``).

SQLite has one writer at a time (write transactions begin ``IMMEDIATE`` and are serialised in-process by
``store.database``), so it needs no row locks: ``lock`` and ``claim_lock`` leave a query unchanged.
PostgreSQL runs many processes' transactions at once under READ COMMITTED, so a transaction that reads
rows it is about to change locks them first, always in the order agents → items → batches:

- ``lock``: ``FOR UPDATE`` (agents, an item's fence, memory blocks);
- ``lock_for_update_of_row``: ``FOR NO KEY UPDATE`` — the lock an ``UPDATE`` takes, for batch rows that
  the same transaction may already have updated (taking ``FOR UPDATE`` then would be a lock upgrade,
  which deadlocks against a waiter);
- ``claim_lock``: ``FOR UPDATE SKIP LOCKED`` — concurrent claimers take different rows instead of
  waiting for each other.
"""

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

_Query = TypeVar("_Query", bound=Select[Any])


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str

    @property
    def locks_rows(self) -> bool:
        """Whether concurrent writers exist and rows must be locked (PostgreSQL)."""
        return self.name == "postgresql"

    @property
    def single_writer(self) -> bool:
        """One process owns the database file (SQLite): leases left by an earlier run are void."""
        return self.name == "sqlite"

    @property
    def naive_times(self) -> bool:
        """Whether timestamps are stored without a zone (SQLite keeps UTC as naive text)."""
        return self.name == "sqlite"

    def lock(self, query: _Query) -> _Query:
        return query.with_for_update() if self.locks_rows else query

    def lock_for_update_of_row(self, query: _Query) -> _Query:
        return query.with_for_update(key_share=True) if self.locks_rows else query

    def claim_lock(self, query: _Query) -> _Query:
        return query.with_for_update(skip_locked=True) if self.locks_rows else query

    @property
    def insert(self) -> Any:
        """The ``insert`` construct with ``on_conflict_do_nothing`` for this database."""
        return postgresql_insert if self.locks_rows else sqlite_insert


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")


def dialect_named(name: str) -> Dialect:
    return POSTGRESQL if name == "postgresql" else SQLITE if name == "sqlite" else Dialect(name)


def dialect_of(conn: AsyncConnection) -> Dialect:
    return dialect_named(conn.dialect.name)
