"""Carrying out one tool call of a step: validation, then the memory tools, conversation search,
custom tools in the sandbox, ``send_message``, or a pause for the client (client tools)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import orjson

from agentbatch.domain.agents import Tool, ToolType
from agentbatch.domain.messages import Message, ToolCall, ToolStatus
from agentbatch.runtime.ports import Recall
from agentbatch.runtime.tools.base_tools import CONVERSATION_SEARCH, SEND_MESSAGE
from agentbatch.runtime.tools.memory_tools import (
    ConversationSearch,
    Memory,
    ToolError,
    conversation_search,
)
from agentbatch.runtime.tools.sandbox import ToolSandbox, needs_network

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


class Effect(Enum):
    CONTINUE = "continue"  # the result goes back to the model
    INVALID = "invalid"  # unknown tool or bad arguments: recorded, then the turn stops (invalid_tool_call)
    TERMINAL = "terminal"  # send_message: the agent has answered; the turn ends
    NEEDS_CLIENT = "needs_client"  # a client tool: the turn pauses for the caller (requires_approval)


@dataclass(slots=True)
class ToolOutcome:
    effect: Effect
    status: ToolStatus = "success"
    content: str = ""
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


class ToolExecutor:
    def __init__(
        self,
        tools: Sequence[Tool],
        client_tools: Sequence[str],
        memory: Memory,
        history: Sequence[Message],
        sandbox: ToolSandbox,
        assistant_tool: tuple[str, str] | None,
        recall: Recall | None = None,
    ) -> None:
        """``history``: the agent's history as loaded for the turn (it grows as steps commit);
        ``recall``: the whole history, when ``history`` holds only its newest messages."""
        self._tools = {tool.name: tool for tool in tools}
        self._client_tools = set(client_tools)
        self._memory = memory
        self._history = history
        self._sandbox = sandbox
        self._assistant_tool = assistant_tool
        self._recall = recall

    async def run(self, call: ToolCall) -> ToolOutcome:
        if call.name in self._client_tools:
            return ToolOutcome(Effect.NEEDS_CLIENT)
        tool = self._tools.get(call.name)
        if tool is None:
            known = ", ".join(sorted(self._tools)) or "none"
            return _invalid(f"Tool {call.name!r} does not exist. Available tools: {known}.")
        try:
            arguments = parse_arguments(call.arguments, tool.json_schema.get("parameters") or {})
        except ToolError as error:
            return _invalid(f"Invalid arguments for {call.name}: {error}")
        if call.name == SEND_MESSAGE or (self._assistant_tool and call.name == self._assistant_tool[0]):
            return ToolOutcome(Effect.TERMINAL, content="Sent message successfully.")
        try:
            if tool.tool_type is ToolType.CUSTOM:
                return await self._custom(tool, arguments)
            return ToolOutcome(Effect.CONTINUE, content=await self._builtin(call.name, arguments))
        except ToolError as error:
            return ToolOutcome(Effect.CONTINUE, status="error", content=str(error))
        except TypeError as error:
            return _invalid(f"Invalid arguments for {call.name}: {error}")

    async def _builtin(self, name: str, arguments: dict[str, Any]) -> str:
        if name == CONVERSATION_SEARCH:
            if self._recall is None:
                return conversation_search(self._history, **arguments)
            search = ConversationSearch(**arguments)
            async for page in self._recall.newest_first():
                if search.scan(page):
                    break
            return search.result()
        handler = self._memory.handlers().get(name)
        if handler is None:
            raise ToolError(f"tool {name!r} has no implementation on this server")
        return handler(**arguments)

    async def _custom(self, tool: Tool, arguments: dict[str, Any]) -> ToolOutcome:
        result = await self._sandbox.run(
            tool.source_code or "", tool.name, arguments, network=needs_network(tool.tags)
        )
        content = result.return_value
        if len(content) > tool.return_char_limit:
            content = (
                content[: tool.return_char_limit] + f"… [truncated to {tool.return_char_limit} characters]"
            )
        return ToolOutcome(
            Effect.CONTINUE, status=result.status, content=content, stdout=result.stdout, stderr=result.stderr
        )


def _invalid(message: str) -> ToolOutcome:
    return ToolOutcome(Effect.INVALID, status="error", content=message)


def parse_arguments(text: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The call's arguments as an object that satisfies the schema's required names and simple types
    (optional arguments given as null are left out)."""
    try:
        arguments = orjson.loads(text) if text.strip() else {}
    except orjson.JSONDecodeError as error:
        raise ToolError(f"arguments are not valid JSON ({error}): {text[:200]!r}") from error
    if not isinstance(arguments, dict):
        raise ToolError("arguments must be a JSON object")
    properties: Mapping[str, Any] = parameters.get("properties") or {}
    required = parameters.get("required") or ()
    # a null for an optional argument means "not given": the function's default applies
    arguments = {name: value for name, value in arguments.items() if value is not None or name in required}
    missing = [name for name in required if name not in arguments]
    if missing:
        raise ToolError(f"missing required argument(s): {', '.join(missing)}")
    for name, value in arguments.items():
        expected = (properties.get(name) or {}).get("type")
        if name not in properties and properties:
            raise ToolError(f"unexpected argument {name!r}")
        if isinstance(expected, str) and expected in _JSON_TYPES:
            allowed = _JSON_TYPES[expected]
            if not isinstance(value, allowed) or (
                expected in ("integer", "number") and isinstance(value, bool)
            ):
                raise ToolError(f"argument {name!r} must be of type {expected}")
    return arguments
