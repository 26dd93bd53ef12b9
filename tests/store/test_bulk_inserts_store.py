"""Bulk inserts (``store/bulk.py``) store every value as given, whichever way the driver is fed (on SQLite
one statement over the rows as JSON, ``executemany`` where JSON cannot carry a value; ``COPY`` on
PostgreSQL), and inserts written part by part while the caller builds the next are all or nothing."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, Integer, MetaData, String, Table, select

from agentbatch.store import bulk
from agentbatch.store.bulk import bulk_insert, bulk_insert_columns, overlapped_inserts
from agentbatch.store.column_types import UtcDateTime
from agentbatch.store.database import Database

_shapes = MetaData()
samples = Table(
    "bulk_samples",
    _shapes,
    Column("id", Integer, primary_key=True),
    Column("label", String(200)),
    Column("doc", JSON),
    Column("count", BigInteger),
    Column("ratio", Float),
    Column("flag", Boolean),
    Column("at", UtcDateTime),
    Column("kind", String(20)),
)

TEXTS = [
    "plain",
    'quotes " and \\ backslashes \\" and \\\\',
    "ünïcödé, 日本語, emoji 🎉 and a surrogate pair's worth: 𝄞",
    "control \t\n\r\x01\x1f characters",
    "the literal text \\u0000, not a NUL",
    'json-looking text: {"a": [1, 2]}',
    "12345",
    "",
    None,
]
DOCS: list[Any] = [
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi 🎉"}]}]},
    {"nested": {"deep": [1, 2.5, -3, None, True, False, "x"]}, "empty": {}, "list": []},
    ["a", 1, 1.25e-300, 9007199254740993],
    "a JSON string",
    {"n": 12},
    [0.1],
    True,
    None,
    {"quote": 'he said "no"', "escape": "\\u0041"},
]
COUNTS = [0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), None, 42]
RATIOS = [0.1, 1 / 3, 1e-300, 1.7976931348623157e308, -2.5, 0.0, None, 5e-324, 123456789.123456789]
FLAGS = [True, False, None, True, False, True, False, None, True]
AT = [
    datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 11, 30, 14, 0, 0, 1, tzinfo=timezone(timedelta(hours=2))),
    None,
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 6, 1, 6, 30, tzinfo=UTC),
    datetime(2000, 2, 29, tzinfo=UTC),
    datetime(2026, 11, 30, tzinfo=UTC),
]


@pytest.fixture(params=["json", "executemany"])
async def table_db(
    request: pytest.FixtureRequest, db: Database, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Database]:
    """The test's table, each test run twice: SQLite's JSON statement taking every insert, and taking
    none (``executemany``); PostgreSQL's COPY takes both."""
    monkeypatch.setattr(bulk, "JSON_ROWS_FROM", 1 if request.param == "json" else 10**9)
    async with db.write() as conn:
        await conn.run_sync(lambda sync: samples.drop(sync, checkfirst=True))
        await conn.run_sync(lambda sync: samples.create(sync))
    yield db
    async with db.write() as conn:
        await conn.run_sync(lambda sync: samples.drop(sync, checkfirst=True))


def _columns(first_id: int = 0) -> dict[str, list[Any]]:
    return {
        "id": list(range(first_id, first_id + len(TEXTS))),
        "label": list(TEXTS),
        "doc": list(DOCS),
        "count": list(COUNTS),
        "ratio": list(RATIOS),
        "flag": list(FLAGS),
        "at": list(AT),
    }


async def _stored(db: Database) -> list[tuple[Any, ...]]:
    async with db.read() as conn:
        return [tuple(row) for row in await conn.execute(select(samples).order_by(samples.c.id))]


async def test_every_value_reads_back_as_it_was_written(table_db: Database) -> None:
    async with table_db.write() as conn:
        await bulk_insert_columns(conn, samples, _columns())

    stored = await _stored(table_db)

    assert stored == [
        (index, label, doc, count, ratio, flag, at, None)
        for index, (label, doc, count, ratio, flag, at) in enumerate(
            zip(TEXTS, DOCS, COUNTS, RATIOS, FLAGS, AT, strict=True)
        )
    ]


async def test_a_nul_becomes_the_replacement_character_in_text_and_in_json_alike(
    table_db: Database,
) -> None:
    async with table_db.write() as conn:
        await bulk_insert(conn, samples, [{"id": 1, "label": "a\x00b", "doc": {"k\x00": ["v\x00"]}}])

    assert [(row[1], row[2]) for row in await _stored(table_db)] == [("a\ufffdb", {"k\ufffd": ["v\ufffd"]})]


async def test_values_shared_by_every_row_are_stored_on_each(table_db: Database) -> None:
    async with table_db.write() as conn, overlapped_inserts(conn) as writer:
        await writer.insert(samples, {"id": [1, 2, 3]}, {"kind": "shared", "flag": True, "doc": {"same": 1}})

    assert [(row[0], row[2], row[5], row[7]) for row in await _stored(table_db)] == [
        (1, {"same": 1}, True, "shared"),
        (2, {"same": 1}, True, "shared"),
        (3, {"same": 1}, True, "shared"),
    ]


async def test_an_integer_beyond_64_bits_is_refused_and_nothing_of_the_insert_stays(
    table_db: Database,
) -> None:
    with pytest.raises(OverflowError):  # not stored as a float (SQLite reads such a JSON number as one)
        async with table_db.write() as conn:
            await bulk_insert_columns(conn, samples, {"id": [1, 2], "count": [1, 2**64 - 1]})

    assert await _stored(table_db) == []


async def test_parts_are_written_in_order_and_kept_together(table_db: Database) -> None:
    async with table_db.write() as conn, overlapped_inserts(conn) as writer:
        for part in range(4):
            await writer.insert(
                samples, {"id": [part * 10, part * 10 + 1], "label": [f"p{part}", f"p{part}"]}
            )

    assert [(row[0], row[1]) for row in await _stored(table_db)] == [
        (0, "p0"), (1, "p0"), (10, "p1"), (11, "p1"), (20, "p2"), (21, "p2"), (30, "p3"), (31, "p3")
    ]  # fmt: skip


async def test_a_part_that_fails_fails_the_block_and_undoes_every_part(table_db: Database) -> None:
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with table_db.write() as conn, overlapped_inserts(conn) as writer:
            await writer.insert(samples, {"id": [1, 2]})
            await writer.insert(samples, {"id": [2, 3]})  # 2 again: this part's write fails
            await writer.insert(samples, {"id": [4, 5]})

    assert await _stored(table_db) == []


async def test_an_error_of_the_caller_while_a_part_is_written_wins_and_undoes_every_part(
    table_db: Database,
) -> None:
    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted):
        async with table_db.write() as conn, overlapped_inserts(conn) as writer:
            await writer.insert(samples, {"id": [1, 2]})
            await writer.insert(samples, {"id": [2, 3]})  # fails, unseen: the caller's error comes first
            raise Interrupted

    assert await _stored(table_db) == []
