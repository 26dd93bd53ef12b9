"""A ``TurnRequest`` as the JSON object stored in ``batch_items.request``, and back.

The stored shape is the one every earlier release wrote (its "normalised body"): the options the caller
set, unknown Letta options at the top level, ``client_tools`` and ``messages`` (each ``{"type":
"message", "role", "content": [parts], ...}`` or ``{"type": "approval", ...}``). ``request_to_json``
writes exactly that shape, so rows written before and after this type existed read the same way, and
``request_from_json`` accepts every variant those releases could leave behind (omitted or null options,
string content, a bare ``input``, an empty object).
"""

from collections.abc import Mapping
from typing import Any, cast

from agentbatch.domain.messages import ContentPart, text_part
from agentbatch.domain.turn_requests import (
    DEFAULT_ASSISTANT_TOOL_KWARG,
    DEFAULT_ASSISTANT_TOOL_NAME,
    ApprovalDecision,
    ApprovalReply,
    ClientTool,
    Decision,
    InputMessage,
    InputRole,
    RequestMessage,
    ToolResultDecision,
    TurnRequest,
)

_OPTIONS = frozenset(
    {
        "max_steps",
        "use_assistant_message",
        "assistant_message_tool_name",
        "assistant_message_tool_kwarg",
        "include_return_message_types",
        "enable_thinking",
    }
)
_TOP_LEVEL = _OPTIONS | {"messages", "client_tools", "input"}
_MESSAGE_FIELDS = frozenset({"type", "role", "content", "name", "otid", "sender_id", "group_id"})
_APPROVAL_FIELDS = frozenset({"type", "approval_request_id", "approve", "reason", "approvals", "group_id"})
_ROLES: frozenset[str] = frozenset({"user", "system", "assistant"})


def request_to_json(request: TurnRequest) -> dict[str, Any]:
    """The stored form: options that differ from their defaults, unknown options, tools, messages.
    Written out field by field: a 100,000-request batch runs this 100,000 times at insert."""
    body: dict[str, Any] = dict(request.extra) if request.extra else {}
    if request.max_steps is not None:
        body["max_steps"] = request.max_steps
    if not request.use_assistant_message:
        body["use_assistant_message"] = False
    if request.assistant_message_tool_name != DEFAULT_ASSISTANT_TOOL_NAME:
        body["assistant_message_tool_name"] = request.assistant_message_tool_name
    if request.assistant_message_tool_kwarg != DEFAULT_ASSISTANT_TOOL_KWARG:
        body["assistant_message_tool_kwarg"] = request.assistant_message_tool_kwarg
    if request.include_return_message_types is not None:
        body["include_return_message_types"] = list(request.include_return_message_types)
    if request.enable_thinking is not None:
        body["enable_thinking"] = request.enable_thinking
    if request.client_tools:
        body["client_tools"] = [_tool_json(tool) for tool in request.client_tools]
    body["messages"] = [_message_json(message) for message in request.messages]
    return body


def request_from_json(stored: Mapping[str, Any]) -> TurnRequest:
    """The request a stored body describes; absent and null options take their defaults. Read at every
    claim, so the common row (messages and a few options) takes the short way."""
    messages = stored.get("messages")
    if messages is None and stored.get("input") is not None:
        messages = [{"type": "message", "role": "user", "content": stored["input"]}]
    include = stored.get("include_return_message_types")
    thinking = stored.get("enable_thinking")
    tools = stored.get("client_tools")
    extra = (
        {name: value for name, value in stored.items() if name not in _TOP_LEVEL} if len(stored) > 1 else {}
    )
    return TurnRequest(
        messages=tuple([_message(entry) for entry in messages]) if messages else (),
        max_steps=int(stored["max_steps"]) if stored.get("max_steps") else None,
        use_assistant_message=_flag(stored.get("use_assistant_message"), True),
        assistant_message_tool_name=str(
            stored.get("assistant_message_tool_name") or DEFAULT_ASSISTANT_TOOL_NAME
        ),
        assistant_message_tool_kwarg=str(
            stored.get("assistant_message_tool_kwarg") or DEFAULT_ASSISTANT_TOOL_KWARG
        ),
        include_return_message_types=None if include is None else tuple([str(kind) for kind in include]),
        enable_thinking=None if thinking is None else str(thinking),
        client_tools=tuple([_tool(entry) for entry in tools]) if tools else (),
        extra=extra,
    )


def decision_json(decision: Decision) -> dict[str, Any]:
    """One decision as Letta writes it (also how an approval message keeps its decisions)."""
    if isinstance(decision, ApprovalDecision):
        found: dict[str, Any] = {
            "type": "approval",
            "tool_call_id": decision.tool_call_id,
            "approve": decision.approve,
        }
        if decision.reason is not None:
            found["reason"] = decision.reason
        return found
    found = {
        "type": "tool",
        "tool_call_id": decision.tool_call_id,
        "status": decision.status,
        "tool_return": decision.tool_return,
    }
    if decision.stdout is not None:
        found["stdout"] = list(decision.stdout)
    if decision.stderr is not None:
        found["stderr"] = list(decision.stderr)
    return found


def _flag(value: object, default: bool) -> bool:
    return default if value is None else bool(value)


def _optional_str(entry: Mapping[str, Any], name: str) -> str | None:
    value = entry.get(name)
    return None if value is None else str(value)


def _message(entry: Mapping[str, Any]) -> RequestMessage:
    if entry.get("type") == "approval":
        approvals = entry.get("approvals")
        return ApprovalReply(
            approval_request_id=_optional_str(entry, "approval_request_id"),
            approve=None if entry.get("approve") is None else bool(entry["approve"]),
            reason=_optional_str(entry, "reason"),
            approvals=None if approvals is None else tuple(_decision(item) for item in approvals),
            group_id=_optional_str(entry, "group_id"),
            extra={name: value for name, value in entry.items() if name not in _APPROVAL_FIELDS},
        )
    role = entry.get("role") or "user"
    if role not in _ROLES:
        raise ValueError(f"a stored request message has the unknown role {role!r}")
    extra = {name: value for name, value in entry.items() if name not in _MESSAGE_FIELDS}
    return InputMessage(
        role=cast(InputRole, role),
        content=_parts(entry.get("content")),
        name=_optional_str(entry, "name"),
        otid=_optional_str(entry, "otid"),
        sender_id=_optional_str(entry, "sender_id"),
        group_id=_optional_str(entry, "group_id"),
        extra=extra,
    )


def _parts(content: object) -> tuple[ContentPart, ...]:
    if content is None:
        return ()
    if isinstance(content, str):
        return (text_part(content),)
    return tuple([dict(part) for part in cast(list[Mapping[str, Any]], content)])


def _decision(entry: Mapping[str, Any]) -> Decision:
    if entry.get("type") == "tool":
        stdout, stderr = entry.get("stdout"), entry.get("stderr")
        return ToolResultDecision(
            tool_call_id=str(entry["tool_call_id"]),
            status="error" if entry.get("status") == "error" else "success",
            tool_return=str(entry.get("tool_return", "")),
            stdout=None if stdout is None else tuple(str(line) for line in stdout),
            stderr=None if stderr is None else tuple(str(line) for line in stderr),
        )
    return ApprovalDecision(
        tool_call_id=str(entry["tool_call_id"]),
        approve=bool(entry.get("approve")),
        reason=_optional_str(entry, "reason"),
    )


def _tool(entry: Mapping[str, Any]) -> ClientTool:
    return ClientTool(
        name=str(entry["name"]),
        description=_optional_str(entry, "description"),
        parameters=entry.get("parameters"),
    )


def _tool_json(tool: ClientTool) -> dict[str, Any]:
    found: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        found["description"] = tool.description
    if tool.parameters is not None:
        found["parameters"] = dict(tool.parameters)
    return found


def _message_json(message: RequestMessage) -> dict[str, Any]:
    if isinstance(message, ApprovalReply):
        found: dict[str, Any] = {"type": "approval", **message.extra}
        for name in ("approval_request_id", "approve", "reason", "group_id"):
            if (value := getattr(message, name)) is not None:
                found[name] = value
        if message.approvals is not None:
            found["approvals"] = [decision_json(decision) for decision in message.approvals]
        return found
    body: dict[str, Any] = (
        {**message.extra, "type": "message", "role": message.role}
        if message.extra
        else {
            "type": "message",
            "role": message.role,
        }
    )
    if message.name is not None:
        body["name"] = message.name
    if message.otid is not None:
        body["otid"] = message.otid
    if message.sender_id is not None:
        body["sender_id"] = message.sender_id
    if message.group_id is not None:
        body["group_id"] = message.group_id
    body["content"] = list(message.content)
    return body
