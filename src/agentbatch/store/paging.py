"""Keyset pagination over a total order of columns, with ``after``/``before`` cursors given as ids.

The SDK asks for the next page with ``after=<last id>`` (or ``before=<first id>`` when walking back) and
stops at the first empty page, so a cursor must be exclusive and exact: no item twice, none skipped.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from agentbatch.domain.errors import InvalidRequest
from agentbatch.domain.paging import PageRequest


async def fetch_page(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    order_by: Sequence[ColumnElement[Any]],
    id_column: ColumnElement[Any],
    page: PageRequest,
) -> Sequence[Row[Any]]:
    """Rows of ``query`` in ``order_by`` order (reversed when descending), one page of them."""
    key = tuple_(*order_by)
    forward = not page.descending  # True: the page runs in ascending key order
    for cursor, comes_after in ((page.after, True), (page.before, False)):
        if cursor is None:
            continue
        position = await _cursor_key(conn, query, order_by, id_column, cursor)
        later_in_key_order = comes_after == forward
        query = query.where(key > tuple_(*position) if later_in_key_order else key < tuple_(*position))

    # With only `before`, take the items nearest the cursor, then restore the requested order.
    walk_back = page.before is not None and page.after is None
    ascending = forward != walk_back
    query = query.order_by(*(column.asc() if ascending else column.desc() for column in order_by))
    rows = list((await conn.execute(query.limit(page.limit))).all())
    if walk_back:
        rows.reverse()
    return rows


async def _cursor_key(
    conn: AsyncConnection,
    query: Select[Any],
    order_by: Sequence[ColumnElement[Any]],
    id_column: ColumnElement[Any],
    cursor: str,
) -> tuple[Any, ...]:
    lookup = query.with_only_columns(*order_by).where(id_column == cursor).limit(1)
    row = (await conn.execute(lookup)).first()
    if row is None:
        raise InvalidRequest(f"cursor {cursor!r} does not name an item of this list")
    return tuple(row)
