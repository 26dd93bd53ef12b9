"""Agents' message histories, in the order they were written (``seq``)."""

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import CTE, ColumnElement, Integer, Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.messages import (
    TOKENS_PER_MESSAGE,
    Message,
    Role,
    ToolCall,
    ToolReturn,
    estimated_tokens,
)
from agentbatch.domain.paging import PageRequest
from agentbatch.store.bulk import bulk_insert
from agentbatch.store.paging import fetch_page
from agentbatch.store.tables import agents, messages


def message_values(message: Message, owner_id: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "agent_id": message.agent_id,
        "owner_id": owner_id,
        "role": message.role.value,
        "content": message.content,
        "tool_calls": [
            {"id": call.id, "name": call.name, "arguments": call.arguments} for call in message.tool_calls
        ]
        or None,
        "tool_call_id": message.tool_call_id,
        "tool_returns": [
            {
                "tool_call_id": ret.tool_call_id,
                "status": ret.status,
                "content": ret.content,
                "stdout": ret.stdout,
                "stderr": ret.stderr,
            }
            for ret in message.tool_returns
        ]
        or None,
        "name": message.name,
        "otid": message.otid,
        "sender_id": message.sender_id,
        "group_id": message.group_id,
        "batch_id": message.batch_id,
        "batch_item_id": message.batch_item_id,
        "step_id": message.step_id,
        "run_id": message.run_id,
        "model": message.model,
        "is_err": message.is_err,
        "approval_request_id": message.approval_request_id,
        "approve": message.approve,
        "denial_reason": message.denial_reason,
        "approvals": message.approvals or None,
        "created_at": message.created_at,
        "estimated_tokens": estimated_tokens(message),
    }


MESSAGE_COLUMNS = (
    "seq",
    "id",
    "agent_id",
    "owner_id",
    "role",
    "content",
    "tool_calls",
    "tool_call_id",
    "tool_returns",
    "name",
    "otid",
    "sender_id",
    "group_id",
    "batch_id",
    "batch_item_id",
    "step_id",
    "run_id",
    "model",
    "is_err",
    "approval_request_id",
    "approve",
    "denial_reason",
    "approvals",
    "created_at",
    "estimated_tokens",
)
"""The columns of a ``select(messages)`` row, in order; ``message_from_row`` unpacks them by position."""
assert tuple(column.name for column in messages.columns) == MESSAGE_COLUMNS, "messages' columns changed"

_ROLES = {role.value: role for role in Role}


def message_from_row(row: Row[Any] | tuple[Any, ...]) -> Message:
    """A message from a ``select(messages)`` row, its columns unpacked by position: reading a Row's
    columns by name costs ~0.4 µs each (SQLAlchemy's ``__getattr__`` runs after a failed ordinary
    lookup), 9 of the 14 µs a message took, and a turn reads its agent's whole history."""
    (
        _seq,
        message_id,
        agent_id,
        owner_id,
        role,
        content,
        tool_calls,
        tool_call_id,
        tool_returns,
        name,
        otid,
        sender_id,
        group_id,
        batch_id,
        batch_item_id,
        step_id,
        run_id,
        model,
        is_err,
        approval_request_id,
        approve,
        denial_reason,
        approvals,
        created_at,
        _estimated_tokens,
    ) = cast("Sequence[Any]", row)  # a Row is a tuple of its columns
    return Message(
        id=message_id,
        agent_id=agent_id,
        role=_ROLES[role],
        created_at=created_at,
        content=list(content),
        tool_calls=[ToolCall(**call) for call in tool_calls] if tool_calls else [],
        tool_call_id=tool_call_id,
        tool_returns=[ToolReturn(**ret) for ret in tool_returns] if tool_returns else [],
        name=name,
        otid=otid,
        sender_id=sender_id,
        group_id=group_id,
        batch_id=batch_id,
        batch_item_id=batch_item_id,
        step_id=step_id,
        run_id=run_id,
        model=model,
        is_err=is_err,
        approval_request_id=approval_request_id,
        approve=approve,
        denial_reason=denial_reason,
        approvals=list(approvals) if approvals else [],
        created_by_id=owner_id,
    )


async def insert_messages(conn: AsyncConnection, owner_id: str, new: Sequence[Message]) -> None:
    await bulk_insert(conn, messages, [message_values(message, owner_id) for message in new])


async def list_agent_messages(
    conn: AsyncConnection, owner_id: str, agent_id: str, page: PageRequest
) -> list[Message]:
    query = select(messages).where(messages.c.agent_id == agent_id, messages.c.owner_id == owner_id)
    rows = await fetch_page(conn, query, order_by=(messages.c.seq,), id_column=messages.c.id, page=page)
    return [message_from_row(row) for row in rows]


async def list_batch_messages(
    conn: AsyncConnection, batch_id: str, page: PageRequest, *, agent_id: str | None = None
) -> list[Message]:
    query = select(messages).where(messages.c.batch_id == batch_id)
    if agent_id is not None:
        query = query.where(messages.c.agent_id == agent_id)
    rows = await fetch_page(conn, query, order_by=(messages.c.seq,), id_column=messages.c.id, page=page)
    return [message_from_row(row) for row in rows]


async def histories(conn: AsyncConnection, agent_ids: Sequence[str]) -> dict[str, list[Message]]:
    """Every named agent's history, oldest first, in one query."""
    found: dict[str, list[Message]] = {agent_id: [] for agent_id in agent_ids}
    if not found:
        return found
    rows = await conn.execute(
        select(messages)
        .where(messages.c.agent_id.in_(list(found)))
        .order_by(messages.c.agent_id, messages.c.seq)
    )
    for row in rows:
        message = message_from_row(row)
        found[message.agent_id].append(message)
    return found


@dataclass(frozen=True, slots=True)
class RecentHistory:
    messages: list[Message]
    """The newest messages, oldest first."""
    earlier: int
    """How many older messages of the agent were left out."""


FIRST_READ_TOKENS = 32
"""The first read of a history takes the newest ``tokens // FIRST_READ_TOKENS + 1`` messages whole: enough
for a window of ``tokens`` unless the messages average fewer tokens than this (then the rest is sized
first, ``_newest_sizes``)."""


async def recent_histories(
    conn: AsyncConnection, agent_ids: Sequence[str], *, tokens: int, item_ids: Collection[str] = ()
) -> dict[str, RecentHistory]:
    """Each named agent's newest messages that could share a prompt of ``tokens``, with every message of
    ``item_ids`` (a resumed turn's own), oldest first, and the count of those left out.

    A message is loaded while its newer messages take fewer than ``tokens`` (each counted at its
    ``estimated_tokens``; one written before they were kept, at the least a message can take):
    everything a window of ``tokens`` could hold, and always the newest message (a paused turn's waiting
    call). One query reads each agent's newest ``tokens // FIRST_READ_TOKENS + 1`` messages: a short
    history whole, a long one as far as the window goes. Only an agent whose messages there do not fill
    the window has its older sizes read (no message takes less than ``TOKENS_PER_MESSAGE``, so only its
    newest ``tokens // TOKENS_PER_MESSAGE + 1`` can qualify: three columns from the index), then its
    messages from the oldest qualifying one. Older messages are only counted."""
    found = {agent_id: RecentHistory([], 0) for agent_id in agent_ids}
    if not found:
        return found
    first = tokens // FIRST_READ_TOKENS + 1
    rows = await conn.execute(_newest_messages(), {"agent_ids": list(found), "reach": first})
    unfilled: list[str] = []
    cut: dict[str, list[Message]] = {}  # agents with older messages than those read
    for agent_id, oldest_first in groupby(rows, key=itemgetter(2)):
        read = list(oldest_first)
        read.reverse()
        recent, newer = _qualifying(read, tokens)
        if newer < tokens and len(read) >= first:
            unfilled.append(agent_id)
            continue
        history = [message_from_row(row) for row in reversed(recent)]
        found[agent_id] = RecentHistory(history, len(read) - len(recent))
        if len(read) >= first:
            cut[agent_id] = history
    for agent_id, history in cut.items():
        found[agent_id] = RecentHistory(history, await _count(conn, agent_id) - len(history))
    if unfilled:
        await _read_long_histories(conn, unfilled, tokens, found)
    if item_ids:
        await _add_item_messages(conn, item_ids, found)
    return found


def _qualifying(newest_first: Sequence[Sequence[Any]], tokens: int) -> tuple[Sequence[Sequence[Any]], int]:
    """The rows whose newer rows take fewer than ``tokens``, and the tokens those take."""
    newer = 0
    for index, row in enumerate(newest_first):
        if newer >= tokens:
            return newest_first[:index], newer
        newer += row[-1] or TOKENS_PER_MESSAGE  # estimated_tokens, the last column
    return newest_first, newer


async def _read_long_histories(
    conn: AsyncConnection, agent_ids: list[str], tokens: int, found: dict[str, RecentHistory]
) -> None:
    """Agents whose first read did not fill the window: their newest sizes, then their messages from
    the oldest qualifying one."""
    reach = tokens // TOKENS_PER_MESSAGE + 1
    sizes = await conn.execute(_newest_sizes(), {"agent_ids": agent_ids, "reach": reach})
    for agent_id, newest_first in groupby(sizes.all(), key=itemgetter(0)):
        read = list(newest_first)
        recent, _newer = _qualifying(read, tokens)
        history = [
            message_from_row(row)
            for row in await conn.execute(_history_from(), {"agent_id": agent_id, "start": recent[-1][1]})
        ]
        total = len(read) if len(read) < reach else await _count(conn, agent_id)
        found[agent_id] = RecentHistory(history, total - len(history))


async def _add_item_messages(
    conn: AsyncConnection, item_ids: Collection[str], found: dict[str, RecentHistory]
) -> None:
    """A resumed turn's own messages that are older than its agent's recent ones (its tool rules count
    them). A turn's messages are its agent's newest (an agent runs one turn at a time), so those not
    loaded come just before the recent ones."""
    missing: dict[str, list[Message]] = {}
    for message in map(message_from_row, await conn.execute(_item_messages(), {"item_ids": list(item_ids)})):
        recent = found.get(message.agent_id)
        if recent is not None and all(kept.id != message.id for kept in recent.messages):
            missing.setdefault(message.agent_id, []).append(message)
    for agent_id, older in missing.items():
        recent = found[agent_id]
        found[agent_id] = RecentHistory([*older, *recent.messages], recent.earlier - len(older))


@functools.cache
def _newest_messages() -> Select[Any]:
    """Each agent's newest ``reach`` messages, with every column, by agent and order (the order of the
    indexes read: ordered by ``messages.agent_id`` instead, SQLite sorts every row again)."""
    newest, named = _newest(*messages.c)
    return newest.order_by(named.c.agent_id, messages.c.seq)


@functools.cache
def _newest_sizes() -> Select[tuple[str, int, int | None]]:
    """Each agent's newest ``reach`` messages' agent, seq and estimated tokens (the index holds all three),
    by agent, newest first."""
    newest, _named = _newest(messages.c.agent_id, messages.c.seq, messages.c.estimated_tokens)
    return newest.order_by(messages.c.agent_id, messages.c.seq.desc())


def _newest(*columns: ColumnElement[Any]) -> tuple[Select[Any], CTE]:
    """``columns`` of the named agents' (``agent_ids``) newest ``reach`` messages: past a seek, per agent,
    to the message just older than them."""
    named = (
        select(agents.c.id.label("agent_id"))
        .where(agents.c.id.in_(bindparam("agent_ids", expanding=True)))
        .cte("named")
    )
    cutoff = (
        select(messages.c.seq)
        .where(messages.c.agent_id == named.c.agent_id)
        .order_by(messages.c.seq.desc())
        .limit(1)
        .offset(bindparam("reach", type_=Integer))
        .correlate(named)
        .scalar_subquery()
    )
    newest = (
        select(*columns)
        .join(named, messages.c.agent_id == named.c.agent_id)
        .where(messages.c.seq > func.coalesce(cutoff, -1))
    )
    return newest, named


@functools.cache
def _history_from() -> Select[Any]:
    """One agent's messages from ``start`` on."""
    return (
        select(messages)
        .where(
            messages.c.agent_id == bindparam("agent_id"), messages.c.seq >= bindparam("start", type_=Integer)
        )
        .order_by(messages.c.seq)
    )


@functools.cache
def _item_messages() -> Select[Any]:
    return (
        select(messages)
        .where(messages.c.batch_item_id.in_(bindparam("item_ids", expanding=True)))
        .order_by(messages.c.seq)
    )


async def _count(conn: AsyncConnection, agent_id: str) -> int:
    counted = await conn.execute(select(func.count()).where(messages.c.agent_id == agent_id))
    return int(counted.scalar_one())


async def older_messages(
    conn: AsyncConnection, agent_id: str, *, before: int | None, limit: int
) -> list[tuple[int, Message]]:
    """Up to ``limit`` of an agent's messages older than ``before`` (a ``seq``; None: from the newest),
    newest first, each with its ``seq`` to read on from."""
    query = select(messages).where(messages.c.agent_id == agent_id)
    if before is not None:
        query = query.where(messages.c.seq < before)
    rows = await conn.execute(query.order_by(messages.c.seq.desc()).limit(limit))
    return [(row[0], message_from_row(row)) for row in rows]


async def item_messages(conn: AsyncConnection, item_id: str) -> list[Message]:
    """The messages one turn (item) wrote, in order."""
    rows = await conn.execute(
        select(messages).where(messages.c.batch_item_id == item_id).order_by(messages.c.seq)
    )
    return [message_from_row(row) for row in rows]
