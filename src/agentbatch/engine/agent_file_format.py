"""Letta's agent file (``.af``, its ``AgentFileSchema``) to and from agentbatch's records. Pure.

A file holds lists of ``agents``, ``blocks``, ``tools`` (and ``groups``, ``files``, ``sources``,
``mcp_servers``, which this server has no counterpart for), each entity with a file-local id
(``agent-0``, ``block-0``, ``tool-0``, ``message-0``) that agents use to name their blocks and tools.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from agentbatch.domain.agents import Agent, Block, Tool
from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn, ToolStatus

FORMAT_REVISION = "agentbatch-1"
AGENT_FIELDS_KEPT = ("timezone", "message_buffer_autoclear", "enable_sleeptime", "max_files_open")


def export_file(agent: Agent, history: list[Message]) -> dict[str, Any]:
    tool_ids = {tool.id: f"tool-{index}" for index, tool in enumerate(agent.tools)}
    block_ids = {block.id: f"block-{index}" for index, block in enumerate(agent.blocks)}
    message_ids = {message.id: f"message-{index}" for index, message in enumerate(history)}
    exported = {
        "id": "agent-0",
        "name": agent.name,
        "agent_type": agent.agent_type.value,
        "system": agent.system,
        "description": agent.description,
        "metadata": agent.metadata,
        "llm_config": agent.llm_config,
        "embedding_config": agent.embedding_config,
        "model": agent.model,
        "embedding": agent.embedding,
        "tags": agent.tags,
        "tool_rules": agent.tool_rules or [],
        "tool_ids": list(tool_ids.values()),
        "block_ids": list(block_ids.values()),
        "source_ids": [],
        "memory_blocks": [],
        "tools": [],
        "include_base_tools": False,
        "in_context_message_ids": list(message_ids.values()),
        "messages": [_message(message, message_ids[message.id]) for message in history],
        "files_agents": [],
        "group_ids": [],
        **{name: agent.options[name] for name in AGENT_FIELDS_KEPT if name in agent.options},
    }
    return {
        "agents": [exported],
        "groups": [],
        "blocks": [_block(block, block_ids[block.id]) for block in agent.blocks],
        "files": [],
        "sources": [],
        "tools": [_tool(tool, tool_ids[tool.id]) for tool in agent.tools],
        "mcp_servers": [],
        "metadata": {"revision_id": FORMAT_REVISION},
        "created_at": datetime.now(UTC).isoformat(),
    }


def _block(block: Block, file_id: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "label": block.label,
        "value": block.value,
        "limit": block.limit,
        "description": block.description,
        "read_only": block.read_only,
        "metadata": block.metadata or {},
        "is_template": False,
        "preserve_on_migration": False,
    }


def _tool(tool: Tool, file_id: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "name": tool.name,
        "tool_type": tool.tool_type.value,
        "description": tool.description,
        "source_type": tool.source_type,
        "source_code": tool.source_code,
        "json_schema": tool.json_schema,
        "args_json_schema": tool.json_schema.get("parameters"),
        "tags": tool.tags,
        "return_char_limit": tool.return_char_limit,
        "metadata_": tool.metadata or {},
    }


def _message(message: Message, file_id: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": file_id,
        "role": message.role.value,
        "content": message.content,
        "name": message.name,
        "otid": message.otid,
        "sender_id": message.sender_id,
        "group_id": message.group_id,
        "model": message.model,
        "agent_id": "agent-0",
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
        ],
        "created_at": message.created_at.isoformat(),
        "approve": message.approve,
        "approval_request_id": message.approval_request_id,
        "denial_reason": message.denial_reason,
        "approvals": message.approvals,
    }


@dataclass(slots=True)
class ImportReport:
    """What an import could not carry over (reported to the caller, never silently dropped)."""

    warnings: list[str] = field(default_factory=list)


def read_messages(
    raw: list[dict[str, Any]], agent_id: str, new_id: Callable[[], str], report: ImportReport
) -> list[Message]:
    """The file's messages as this agent's history; system messages are left out (the system prompt
    and memory are rendered fresh at every step), as are messages of unknown roles (reported)."""
    found: list[Message] = []
    for index, entry in enumerate(raw):
        role = entry.get("role")
        if role == Role.SYSTEM.value:
            continue
        if role not in {item.value for item in Role}:
            report.warnings.append(f"messages[{index}]: role {role!r} is unknown here; left out")
            continue
        found.append(
            Message(
                id=new_id(),
                agent_id=agent_id,
                role=Role(str(role)),
                created_at=_time(entry.get("created_at")),
                content=_content(entry.get("content")),
                tool_calls=[_call(call) for call in entry.get("tool_calls") or ()],
                tool_call_id=entry.get("tool_call_id"),
                tool_returns=[_return(ret) for ret in entry.get("tool_returns") or ()],
                name=entry.get("name"),
                otid=entry.get("otid"),
                sender_id=entry.get("sender_id"),
                group_id=entry.get("group_id"),
                model=entry.get("model"),
                approval_request_id=entry.get("approval_request_id"),
                approve=entry.get("approve"),
                denial_reason=entry.get("denial_reason"),
                approvals=list(entry.get("approvals") or ()),
            )
        )
    return found


def _content(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        return [{"type": "text", "text": raw}]
    parts = []
    for part in raw or ():
        if isinstance(part, dict):
            parts.append({key: value for key, value in part.items() if value is not None})
    return parts


def _call(raw: dict[str, Any]) -> ToolCall:
    function = raw.get("function") or {}
    arguments = function.get("arguments", raw.get("arguments", ""))
    if not isinstance(arguments, str):
        arguments = orjson.dumps(arguments).decode()
    return ToolCall(
        id=str(raw.get("id") or ""),
        name=str(function.get("name") or raw.get("name") or ""),
        arguments=arguments,
    )


def _return(raw: dict[str, Any]) -> ToolReturn:
    status: ToolStatus = "error" if raw.get("status") == "error" else "success"
    content = raw.get("func_response", raw.get("content", ""))
    return ToolReturn(
        tool_call_id=str(raw.get("tool_call_id") or ""),
        status=status,
        content=content if isinstance(content, str) else orjson.dumps(content).decode(),
        stdout=raw.get("stdout"),
        stderr=raw.get("stderr"),
    )


def _time(raw: Any) -> datetime:
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return datetime.now(UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)
