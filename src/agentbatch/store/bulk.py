"""Bulk inserts straight through the driver, for the rows written by the thousand.

SQLAlchemy's executemany runs every value of every row through its bind processors in Python (about
20 µs a row here); a 100,000-request batch spent most of its four seconds there. This path encodes each
column once with a per-type encoder and hands the tuples to the driver: ``executemany`` on SQLite,
``COPY`` on PostgreSQL — inside the caller's transaction, like any other statement of the store.

Values are encoded a column at a time: ``map`` over a column with C-level getters, a text column
scanned for NUL once as a whole (most have none), a JSON column encoded in one orjson call and split,
columns that need no encoding not touched at all
(``benchmarks/overhead.py``, accepting 100,000 requests).
"""

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, String, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.store.column_types import UtcDateTime
from agentbatch.store.dialect import dialect_of
from agentbatch.store.nul_safety import ESCAPED_NUL, NUL, dumps_json, scrub_text

Encoder = Callable[[Any], Any]


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
    callers that build their rows that way: a 100,000-row batch of items then builds no row dicts."""
    if not values or not next(iter(values.values())):
        return
    sqlite = dialect_of(conn).naive_times
    columns = [column for column in table.columns if column.name in values]
    names = [column.name for column in columns]
    columns_values = [
        _encode_column(values[column.name], _encoder(column.type, sqlite)) for column in columns
    ]
    records = list(zip(*columns_values, strict=True))
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    if sqlite:
        placeholders = ", ".join("?" for _ in names)
        quoted = ", ".join(f'"{name}"' for name in names)
        await driver.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({placeholders})', records)
    else:
        if not driver.is_in_transaction():
            # SQLAlchemy's asyncpg adapter opens the transaction at its first statement; a COPY sent
            # before any would commit on its own and survive the caller's rollback.
            await conn.execute(text("SELECT 1"))
        await driver.copy_records_to_table(table.name, records=records, columns=names)
