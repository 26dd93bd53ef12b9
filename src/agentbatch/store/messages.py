"""Agents' message histories, in the order they were written (``seq``)."""

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn
from agentbatch.domain.paging import PageRequest
from agentbatch.store.bulk import bulk_insert
from agentbatch.store.paging import fetch_page
from agentbatch.store.tables import messages


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
)
"""The columns of a ``select(messages)`` row, in order; ``message_from_row`` unpacks them by position."""
assert tuple(column.name for column in messages.columns) == MESSAGE_COLUMNS, "messages' columns changed"

_ROLES = {role.value: role for role in Role}


def message_from_row(row: Row[Any]) -> Message:
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
    ) = cast("tuple[Any, ...]", row)  # a Row is a tuple of its columns
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


async def item_messages(conn: AsyncConnection, item_id: str) -> list[Message]:
    """The messages one turn (item) wrote, in order."""
    rows = await conn.execute(
        select(messages).where(messages.c.batch_item_id == item_id).order_by(messages.c.seq)
    )
    return [message_from_row(row) for row in rows]
