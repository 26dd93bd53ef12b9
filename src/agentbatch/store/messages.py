"""Agents' message histories, in the order they were written (``seq``)."""

from collections.abc import Sequence
from typing import Any

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


def message_from_row(row: Row[Any]) -> Message:
    return Message(
        id=row.id,
        agent_id=row.agent_id,
        role=Role(row.role),
        created_at=row.created_at,
        content=list(row.content),
        tool_calls=[ToolCall(**call) for call in row.tool_calls or ()],
        tool_call_id=row.tool_call_id,
        tool_returns=[ToolReturn(**ret) for ret in row.tool_returns or ()],
        name=row.name,
        otid=row.otid,
        sender_id=row.sender_id,
        group_id=row.group_id,
        batch_id=row.batch_id,
        batch_item_id=row.batch_item_id,
        step_id=row.step_id,
        run_id=row.run_id,
        model=row.model,
        is_err=row.is_err,
        approval_request_id=row.approval_request_id,
        approve=row.approve,
        denial_reason=row.denial_reason,
        approvals=list(row.approvals or ()),
        created_by_id=row.owner_id,
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
        found[row.agent_id].append(message_from_row(row))
    return found


async def item_messages(conn: AsyncConnection, item_id: str) -> list[Message]:
    """The messages one turn (item) wrote, in order."""
    rows = await conn.execute(
        select(messages).where(messages.c.batch_item_id == item_id).order_by(messages.c.seq)
    )
    return [message_from_row(row) for row in rows]
