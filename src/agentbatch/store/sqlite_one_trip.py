"""SQLite statements in one trip to the connection's thread (a performance trick: decision 0013).

aiosqlite runs each SQLite connection in a thread of its own and hands it one call at a time; through
SQLAlchemy a statement costs four such hand-offs (open a cursor, execute, fetch the rows, close). Each
is a wake-up of the thread and of the event loop: on the 2-core box of ``benchmarks/overhead.py`` about
55 µs of CPU apiece, against ~5 µs for the statement itself. Here a statement is one hand-off: the thread
opens a cursor, executes, fetches every row and closes it, and the cursor SQLAlchemy holds answers
``description``, ``rowcount`` and ``fetchall`` from what came back. SQLAlchemy's buffered cursor is all
it serves: no server-side cursor (``stream_results``), which the store never asks for.

This module stands in for the ``aiosqlite`` module under SQLAlchemy's aiosqlite adapter (see
``one_trip_dbapi``): the same names, but ``connect`` returns a ``OneTripConnection``. It leans on
aiosqlite's ``Connection._execute`` (the hand-off) and ``_conn``; ``pyproject.toml`` pins aiosqlite to
the minor version these were read from, and the store's whole suite runs through it.
"""

import sqlite3
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from aiosqlite import (
    DatabaseError,
    Error,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    sqlite_version,
    sqlite_version_info,
)
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

__all__ = [
    "Connection",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "NotSupportedError",
    "OneTripCursor",
    "OperationalError",
    "ProgrammingError",
    "connect",
    "one_trip_dbapi",
    "sqlite_version",
    "sqlite_version_info",
]

Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None
Outcome = tuple[list[Any], Description, int, int | None]


def _run(conn: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> Outcome:
    """In the connection's thread: the whole statement, its rows fetched, its cursor closed."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description is not None else []
        return rows, cursor.description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor:
    """What SQLAlchemy's adapter asks of an aiosqlite cursor, each statement one hand-off; the rows it
    returned are read from here, without another."""

    def __init__(self, connection: "OneTripConnection") -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> "OneTripCursor":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> "OneTripCursor":
        return await self._trip(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> "OneTripCursor":
        return await self._trip(sql, parameters, many=True)

    async def _trip(self, sql: str, parameters: Any, *, many: bool) -> "OneTripCursor":
        connection = self._connection
        hand_off: Callable[..., Awaitable[Outcome]] = connection._execute
        outcome = await hand_off(_run, connection._conn, sql, parameters, many)
        self._rows, self.description, self.rowcount, self.lastrowid = outcome
        return self

    async def fetchall(self) -> Sequence[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class OneTripConnection(aiosqlite.Connection):
    def cursor(self) -> OneTripCursor:  # type: ignore[override]  # no hand-off to open one
        return OneTripCursor(self)


Connection = OneTripConnection
"""SQLAlchemy's adapter asks ``aiosqlite.Connection`` whether it can ``stop``."""


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> OneTripConnection:
    """``aiosqlite.connect``, with statements in one hand-off each."""

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(database, **kwargs)
        return connection

    return OneTripConnection(connector, iter_chunk_size)


def one_trip_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """SQLAlchemy's aiosqlite adapter over this module (``create_async_engine(..., module=...)``)."""
    return AsyncAdapt_aiosqlite_dbapi(sys.modules[__name__], sqlite3)
