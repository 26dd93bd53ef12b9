"""Resuming a paused turn: matching an approval reply to the tool calls that wait for it."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn, text_part
from agentbatch.domain.turn_request_json import decision_json
from agentbatch.domain.turn_requests import ApprovalDecision, ApprovalReply, ToolResultDecision


class TurnRejected(Exception):
    """The request cannot start a turn for this agent now (the message says why)."""


def waiting_calls(history: Sequence[Message]) -> tuple[Message, list[ToolCall]] | None:
    """The latest approval request and those of its calls that have no result yet, if any."""
    answered: set[str] = set()
    for message in reversed(history):
        if message.role is Role.TOOL:
            answered.update(ret.tool_call_id for ret in message.tool_returns)
            if message.tool_call_id:
                answered.add(message.tool_call_id)
        elif message.role is Role.APPROVAL and message.tool_calls:
            open_calls = [call for call in message.tool_calls if call.id not in answered]
            return (message, open_calls) if open_calls else None
        elif message.role in (Role.USER, Role.ASSISTANT):
            return None
    return None


@dataclass(slots=True)
class Resolution:
    """What an approval reply adds: the reply and the results it carries, and the approved calls of
    the agent's own tools, which the turn runs now (their results follow the reply)."""

    messages: list[Message] = field(default_factory=list)
    approved: list[ToolCall] = field(default_factory=list)


def resolve_reply(
    history: Sequence[Message],
    reply: ApprovalReply | None,
    tags: dict[str, str | None],
    now: datetime,
    runnable: Callable[[str], bool],
) -> Resolution:
    """Like ``resolve``; a call of a tool the server can run (``runnable``) that the reply approves is
    handed back to be run instead of being rejected."""
    waiting = waiting_calls(history)
    if reply is None or waiting is None:
        return Resolution(resolve(history, reply, tags, now))
    approved = [call for call in waiting[1] if runnable(call.name) and _approves(reply, call.id)]
    skip = {call.id for call in approved}
    return Resolution(resolve(history, reply, tags, now, skip), approved)


def resolve(
    history: Sequence[Message],
    reply: ApprovalReply | None,
    tags: dict[str, str | None],
    now: datetime,
    skip: frozenset[str] | set[str] = frozenset(),
) -> list[Message]:
    """The messages an approval reply adds (the reply itself, then one tool result per waiting call
    not in ``skip``); ``TurnRejected`` if the reply and the agent's state do not fit together."""
    waiting = waiting_calls(history)
    if reply is None:
        if waiting is not None:
            ids = ", ".join(call.id for call in waiting[1])
            raise TurnRejected(
                f"the agent is waiting for the result or approval of tool call(s) {ids}; "
                "send a message of type 'approval' first"
            )
        return []
    if waiting is None:
        raise TurnRejected("no tool call of this agent is waiting for approval")
    request, calls = waiting
    agent_id = request.agent_id
    reply_message = Message(
        id=new_id(IdPrefix.MESSAGE),
        agent_id=agent_id,
        role=Role.APPROVAL,
        created_at=now,
        approval_request_id=reply.approval_request_id or request.id,
        approve=reply.approve,
        denial_reason=reply.reason,
        approvals=[decision_json(decision) for decision in reply.approvals or ()],
        batch_id=tags.get("batch_id"),
        batch_item_id=tags.get("batch_item_id"),
    )
    results = [reply_message]
    for call in calls:
        if call.id in skip:
            continue
        ret = _result_for(call, reply)
        results.append(
            Message(
                id=new_id(IdPrefix.MESSAGE),
                agent_id=agent_id,
                role=Role.TOOL,
                created_at=now,
                content=[text_part(ret.content)],
                tool_call_id=call.id,
                tool_returns=[ret],
                name=call.name,
                batch_id=tags.get("batch_id"),
                batch_item_id=tags.get("batch_item_id"),
            )
        )
    return results


def _approves(reply: ApprovalReply, tool_call_id: str) -> bool:
    """True when the reply approves the call (a returned result is not an approval to run it)."""
    decision = reply.decision_for(tool_call_id)
    if decision is None:
        return reply.approve is True
    return isinstance(decision, ApprovalDecision) and decision.approve


def _result_for(call: ToolCall, reply: ApprovalReply) -> ToolReturn:
    decision = reply.decision_for(call.id)
    if isinstance(decision, ToolResultDecision):
        return ToolReturn(
            tool_call_id=call.id,
            status=decision.status,
            content=decision.tool_return,
            stdout=None if decision.stdout is None else list(decision.stdout),
            stderr=None if decision.stderr is None else list(decision.stderr),
        )
    approved = decision.approve if decision is not None else reply.approve
    if approved is False:
        why = (decision.reason if decision is not None else None) or reply.reason or "no reason given"
        return ToolReturn(
            tool_call_id=call.id, status="error", content=f"The user denied this tool call: {why}"
        )
    if approved is None:
        raise TurnRejected(f"the approval reply says nothing about tool call {call.id} ({call.name})")
    raise TurnRejected(
        f"tool call {call.id} ({call.name}) is a client tool: approve it by sending its result "
        "as an approval of type 'tool'"
    )
