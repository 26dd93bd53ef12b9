"""Bulk inserts straight through the driver, for the rows written by the thousand.

SQLAlchemy's executemany runs every value of every row through its bind processors in Python (about
20 µs a row here); a 100,000-request batch spent most of its four seconds there. This path encodes each
column once with a per-type encoder and hands the rows to the driver — inside the caller's transaction,
like any other statement of the store: ``COPY`` on PostgreSQL; on SQLite, ``executemany`` for a few
rows and, from ``JSON_ROWS_FROM`` rows, one ``INSERT … SELECT`` over ``json_each`` of the rows as one
JSON text, which SQLite reads in C without the interpreter's lock.

``overlapped_inserts`` writes a large insert in parts: it hands a part to the driver and returns, so the
caller builds the next part while SQLite writes this one in its thread (``performance.py``, entry 6).

Values are encoded a column at a time: ``map`` over a column with C-level getters, a text column
scanned for NUL once as a whole (most have none), a JSON column encoded in one orjson call and split,
columns that need no encoding not touched at all
(``benchmarks/overhead.py``, accepting 100,000 requests).
"""

import asyncio
import functools
import operator
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Integer, String, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.store.column_types import UtcDateTime
from agentbatch.store.dialect import dialect_of
from agentbatch.store.nul_safety import ESCAPED_NUL, NUL, dumps_json, scrub_text

Encoder = Callable[[Any], Any]
JSON_ROWS_FROM = 500
"""On SQLite, inserts of this many rows or more go as one statement over JSON (which frees the
interpreter's lock while SQLite writes), fewer through ``executemany`` (a few µs cheaper a row for a
handful of rows: the messages of a step)."""
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


@functools.lru_cache(maxsize=4096)
def _sqlite_time(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite storage format; cached, as rows written together share their timestamps."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _json_text(value: Any) -> str | None:
    return None if value is None else dumps_json(value)


def _text(value: Any) -> Any:
    return scrub_text(value) if isinstance(value, str) else value


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _same(value: Any) -> Any:
    return value


def _encode_column(values: list[Any], encode: Encoder) -> list[Any]:
    if encode is _same:
        return values
    if encode is _text:
        try:
            if NUL not in "".join(filter(None, values)):
                return values  # the common case: one C-level scan of the whole column
        except TypeError:
            pass  # not only strings: value by value
    if encode is _json_text:
        texts = _json_column(values)
        if texts is not None:
            return texts
    return list(map(encode, values))


_ROW_BREAK = orjson.Fragment(b"\x1f")
"""Put between a JSON column's values, encoded together: orjson writes a raw 0x1F byte nowhere else (JSON
escapes every control character inside a string, and no other token holds one)."""


def _json_column(values: list[Any]) -> list[Any] | None:
    """A JSON column's texts from one ``orjson.dumps`` of all its values, split at the row breaks; None
    when a value holds a NUL (then value by value, through ``dumps_json``). One call instead of one per
    value: orjson's output buffer costs a fresh page, hence a page fault, per call (~3 µs each, more than
    the encoding itself: 0.3 s of a 100,000-request accept)."""
    interleaved: list[Any] = [_ROW_BREAK] * (2 * len(values) - 1)
    interleaved[::2] = values
    encoded = orjson.dumps(interleaved)
    if ESCAPED_NUL in encoded:
        return None
    texts: list[Any] = encoded[1:-1].decode().split(",\x1f,")
    assert len(texts) == len(values), "orjson wrote a raw 0x1F byte"
    if None in values:  # SQL NULL, not the JSON text null
        texts = [None if value is None else text for value, text in zip(values, texts, strict=True)]
    return texts


def _encoder(column_type: Any, sqlite: bool) -> Encoder:
    if isinstance(column_type, UtcDateTime):
        return _sqlite_time if sqlite else _same
    if isinstance(column_type, JSON):
        return _json_text
    if isinstance(column_type, Boolean) and sqlite:
        return _sqlite_bool
    if isinstance(column_type, String):  # Text too: no NUL reaches the database (nul_safety)
        return _text
    return _same


async def bulk_insert(conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows that all name the same columns (omitted columns take their server defaults)."""
    if not rows:
        return
    names = [column.name for column in table.columns if column.name in rows[0]]
    await bulk_insert_columns(
        conn, table, {name: list(map(operator.itemgetter(name), rows)) for name in names}
    )


async def bulk_insert_columns(conn: AsyncConnection, table: Table, values: Mapping[str, list[Any]]) -> None:
    """Insert rows given column by column (each list holds one column's values, all of one length), for
    callers that build their rows that way: a 100,000-row batch of items then builds no row dicts. Written
    before it returns, with no task between (a step's messages come this way, on the hot path)."""
    write = await _start_write(conn, table, values, {})
    if write is not None:
        await write


@asynccontextmanager
async def overlapped_inserts(conn: AsyncConnection) -> AsyncIterator["OverlappedInserts"]:
    """Inserts written one after another, each while the caller builds the next; all of them written
    when the block ends. If the block raises, a write still under way is waited for, its own error
    dropped: the caller's error rolls the transaction back."""
    writer = OverlappedInserts(conn)
    try:
        yield writer
    except BaseException:
        await writer.settle(quietly=True)
        raise
    await writer.settle()


class OverlappedInserts:
    """Hands each insert to the driver and returns before it is written. On SQLite a part is one
    statement over a JSON text of its rows, run in the driver's thread without the interpreter's lock,
    so the caller's next part is built while this one is written (``performance.py``, entry 6)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._writing: asyncio.Task[None] | None = None

    async def insert(
        self, table: Table, values: Mapping[str, list[Any]], shared: Mapping[str, Any] | None = None
    ) -> None:
        """Wait for the previous insert, then start this one and return as soon as the driver has it.
        ``values``: the columns that differ from row to row; ``shared``: those every row has the same."""
        await self.settle()
        write = await _start_write(self._conn, table, values, shared or {})
        if write is None:
            return
        self._writing = asyncio.ensure_future(write)
        await asyncio.sleep(0)  # one turn of the loop: the task hands its statement to the driver

    async def settle(self, *, quietly: bool = False) -> None:
        """Wait until the insert under way (if any) is written; ``quietly`` drops its error."""
        writing, self._writing = self._writing, None
        if writing is None:
            return
        if quietly:
            await asyncio.gather(writing, return_exceptions=True)
        else:
            await writing


async def _start_write(
    conn: AsyncConnection, table: Table, values: Mapping[str, list[Any]], shared: Mapping[str, Any]
) -> Awaitable[Any] | None:
    """The driver's write of these rows, encoded and ready to await (None: no rows)."""
    if not values or not next(iter(values.values())):
        return None
    sqlite = dialect_of(conn).naive_times
    rows = _Rows(table, values, shared, sqlite)
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    if sqlite:
        return _sqlite_insert(driver, rows)
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter opens the transaction at its first statement; a COPY sent
        # before any would commit on its own and survive the caller's rollback.
        await conn.execute(text("SELECT 1"))
    return driver.copy_records_to_table(  # type: ignore[no-any-return]
        table.name, records=rows.records(), columns=rows.names
    )


class _Rows:
    """One insert's rows, encoded for the driver: the varying columns and the shared values."""

    def __init__(
        self, table: Table, values: Mapping[str, list[Any]], shared: Mapping[str, Any], sqlite: bool
    ):
        self.table = table.name
        self.count = len(next(iter(values.values())))
        columns = [column for column in table.columns if column.name in values or column.name in shared]
        self.names = [column.name for column in columns]
        self.varying = [column.name for column in columns if column.name in values]
        self.columns = {
            column.name: _encode_column(values[column.name], _encoder(column.type, sqlite))
            for column in columns
            if column.name in values
        }
        self.integers = [
            column.name for column in columns if column.name in values and isinstance(column.type, Integer)
        ]
        self.shared = {
            column.name: _encoder(column.type, sqlite)(shared[column.name])
            for column in columns
            if column.name in shared
        }

    def fit_json(self) -> bool:
        """Whether JSON carries every varying value as it is: SQLite reads a JSON integer beyond 64 bits
        (orjson writes up to 64 unsigned) as a float, where ``executemany`` refuses it."""
        for name in self.integers:
            numbers = [value for value in self.columns[name] if value is not None]
            if numbers and (min(numbers) < _INT64_MIN or max(numbers) > _INT64_MAX):
                return False
        return True

    def varying_records(self) -> list[tuple[Any, ...]]:
        return list(zip(*(self.columns[name] for name in self.varying), strict=True))

    def records(self) -> list[tuple[Any, ...]]:
        """Every named column of every row, the shared values repeated."""
        full = [
            self.columns[name] if name in self.columns else [self.shared[name]] * self.count
            for name in self.names
        ]
        return list(zip(*full, strict=True))


def _sqlite_insert(driver: Any, rows: _Rows) -> Awaitable[Any]:
    """One ``INSERT … SELECT`` over ``json_each`` of the rows as one JSON text, the shared values bound
    once: SQLite reads every value in C, so the interpreter's lock is free while it writes
    (``executemany`` takes the lock back at every row). Rows JSON cannot carry (bytes, integers beyond
    64 bits) go through ``executemany``."""
    quoted = ", ".join(f'"{name}"' for name in rows.names)
    try:
        as_json = (
            orjson.dumps(rows.varying_records()) if rows.count >= JSON_ROWS_FROM and rows.fit_json() else None
        )
    except orjson.JSONEncodeError:
        as_json = None
    if as_json is None:
        placeholders = ", ".join("?" for _ in rows.names)
        statement = f'INSERT INTO "{rows.table}" ({quoted}) VALUES ({placeholders})'
        return driver.executemany(statement, rows.records())  # type: ignore[no-any-return]
    position = {name: index for index, name in enumerate(rows.varying)}
    picked = ", ".join(
        f"json_extract(value, '$[{position[name]}]')" if name in position else "?" for name in rows.names
    )
    statement = f'INSERT INTO "{rows.table}" ({quoted}) SELECT {picked} FROM json_each(CAST(? AS TEXT))'
    shared = [rows.shared[name] for name in rows.names if name in rows.shared]
    return driver.execute(statement, (*shared, as_json))  # type: ignore[no-any-return]
