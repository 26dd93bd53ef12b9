"""Stored messages in Letta's two wire shapes.

- ``internal_message``: Letta's role-based ``Message`` (what ``GET …/batches/{id}/messages`` returns).
- ``letta_messages``: the ``message_type`` union (agent message lists and synchronous responses); one
  stored message may expand to several (reasoning, then a tool call), all carrying the stored id.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from agentbatch.domain.messages import Message, Role, text_of
from agentbatch.domain.turn_requests import (
    DEFAULT_ASSISTANT_TOOL_KWARG,
    DEFAULT_ASSISTANT_TOOL_NAME,
    TurnRequest,
)


@dataclass(frozen=True, slots=True)
class RenderOptions:
    use_assistant_message: bool = True
    assistant_message_tool_name: str = DEFAULT_ASSISTANT_TOOL_NAME
    assistant_message_tool_kwarg: str = DEFAULT_ASSISTANT_TOOL_KWARG
    include_types: frozenset[str] | None = None

    @classmethod
    def of(cls, request: TurnRequest) -> "RenderOptions":
        """How the caller of ``request`` asked to see its turn's messages."""
        include = request.include_return_message_types
        return cls(
            request.use_assistant_message,
            request.assistant_message_tool_name,
            request.assistant_message_tool_kwarg,
            frozenset(include) if include else None,
        )


def internal_message(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "role": message.role.value,
        "agent_id": message.agent_id,
        "model": message.model,
        "content": [dict(part) for part in message.content],
        "name": message.name,
        "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls
        ]
        or None,
        "tool_call_id": message.tool_call_id,
        "tool_returns": [
            {
                "tool_call_id": ret.tool_call_id,
                "status": ret.status,
                "func_response": ret.content,
                "stdout": ret.stdout,
                "stderr": ret.stderr,
            }
            for ret in message.tool_returns
        ]
        or None,
        "step_id": message.step_id,
        "run_id": message.run_id,
        "otid": message.otid,
        "sender_id": message.sender_id,
        "group_id": message.group_id,
        "batch_item_id": message.batch_item_id,
        "is_err": message.is_err,
        "approval_request_id": message.approval_request_id,
        "approve": message.approve,
        "denial_reason": message.denial_reason,
        "approvals": message.approvals or None,
        "created_at": message.created_at.isoformat(),
        "updated_at": message.created_at.isoformat(),
        "created_by_id": message.created_by_id,
        "last_updated_by_id": message.created_by_id,
    }


def letta_messages(messages: Iterable[Message], options: RenderOptions) -> list[dict[str, Any]]:
    rendered = [item for message in messages for item in _expand(message, options)]
    if options.include_types is None:
        return rendered
    return [item for item in rendered if item["message_type"] in options.include_types]


def _base(message: Message, message_type: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "date": message.created_at.isoformat(),
        "message_type": message_type,
        "name": message.name,
        "otid": message.otid,
        "sender_id": message.sender_id,
        "step_id": message.step_id,
        "run_id": message.run_id,
        "is_err": message.is_err or None,
    }


def _expand(message: Message, options: RenderOptions) -> list[dict[str, Any]]:
    if message.role is Role.SYSTEM:
        return [{**_base(message, "system_message"), "content": message.text}]
    if message.role is Role.USER:
        return [{**_base(message, "user_message"), "content": _user_content(message)}]
    if message.role is Role.TOOL:
        return [_tool_return(message)]
    if message.role is Role.APPROVAL:
        return [_approval(message)]
    return _assistant(message, options)


def _user_content(message: Message) -> str | list[dict[str, Any]]:
    parts = message.content
    if all(part.get("type", "text") == "text" for part in parts):
        return text_of(parts)
    return [dict(part) for part in parts]


def _assistant(message: Message, options: RenderOptions) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in message.content:
        kind = part.get("type", "text")
        if kind == "reasoning":
            out.append(
                {
                    **_base(message, "reasoning_message"),
                    "reasoning": part.get("reasoning", ""),
                    "source": "reasoner_model" if part.get("is_native") else "non_reasoner_model",
                    "signature": part.get("signature"),
                }
            )
        elif kind in ("redacted_reasoning", "omitted_reasoning"):
            state = "redacted" if kind == "redacted_reasoning" else "omitted"
            out.append(
                {**_base(message, "hidden_reasoning_message"), "state": state, "hidden_reasoning": None}
            )
    text = message.text
    if text:
        out.append({**_base(message, "assistant_message"), "content": text})
    for call in message.tool_calls:
        if options.use_assistant_message and call.name == options.assistant_message_tool_name:
            out.append(
                {**_base(message, "assistant_message"), "content": _assistant_text(call.arguments, options)}
            )
        else:
            tool_call = {"name": call.name, "arguments": call.arguments, "tool_call_id": call.id}
            out.append(
                {**_base(message, "tool_call_message"), "tool_call": tool_call, "tool_calls": [tool_call]}
            )
    return out


def _assistant_text(arguments: str, options: RenderOptions) -> str:
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return arguments
    if isinstance(parsed, dict):
        return str(parsed.get(options.assistant_message_tool_kwarg, ""))
    return arguments


def _tool_return(message: Message) -> dict[str, Any]:
    returns = [
        {
            "type": "tool",
            "tool_return": ret.content,
            "status": ret.status,
            "tool_call_id": ret.tool_call_id,
            "stdout": ret.stdout,
            "stderr": ret.stderr,
        }
        for ret in message.tool_returns
    ]
    first = (
        returns[0]
        if returns
        else {"tool_return": message.text, "status": "success", "stdout": None, "stderr": None}
    )
    return {
        **_base(message, "tool_return_message"),
        "tool_return": first["tool_return"],
        "status": first["status"],
        "tool_call_id": message.tool_call_id or first.get("tool_call_id", ""),
        "stdout": first["stdout"],
        "stderr": first["stderr"],
        "tool_returns": returns,
    }


def _approval(message: Message) -> dict[str, Any]:
    if message.tool_calls:
        call = message.tool_calls[0]
        tool_call = {"name": call.name, "arguments": call.arguments, "tool_call_id": call.id}
        calls = [{"name": c.name, "arguments": c.arguments, "tool_call_id": c.id} for c in message.tool_calls]
        return {**_base(message, "approval_request_message"), "tool_call": tool_call, "tool_calls": calls}
    return {
        **_base(message, "approval_response_message"),
        "approval_request_id": message.approval_request_id,
        "approve": message.approve,
        "reason": message.denial_reason,
        "approvals": message.approvals or None,
    }
