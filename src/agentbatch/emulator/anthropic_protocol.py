"""Anthropic messages: request parsing and ``message`` rendering.

A tool call whose arguments are not a JSON object (``[[bad-tool-args]]``, a truncated forced call)
cannot be sent as-is: ``tool_use.input`` is always an object on the real API. The emulator sends
``{"INVALID_JSON": "<the raw text>"}``, the wrapper Anthropic documents for invalid tool JSON, so
the input is still an object but matches no sane schema (missing required properties).
"""

from typing import Any

from agentbatch.emulator.directives import parse_directives
from agentbatch.emulator.faults import ErrorReply, anthropic_error
from agentbatch.emulator.ids import IdMaker
from agentbatch.emulator.protocol import InvalidRequest, require_int, text_of_parts
from agentbatch.emulator.scripting import Reply, Stop, ToolChoiceMode, ToolSpec, Turn, count_words

INVALID_JSON_KEY = "INVALID_JSON"
_STOP_REASONS = {Stop.END: "end_turn", Stop.TOOL_USE: "tool_use", Stop.LENGTH: "max_tokens"}
_CACHE_CREATION = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
_TOOL_CHOICES: dict[str, ToolChoiceMode] = {
    "auto": "auto",
    "any": "required",
    "none": "none",
    "tool": "named",
}


class AnthropicMessagesProtocol:
    """``POST /v1/messages`` (non-streaming)."""

    is_anthropic = True
    request_id_header = "request-id"

    def __init__(self, service_tier: str = "standard") -> None:
        self.service_tier = service_tier

    def parse(self, body: dict[str, Any]) -> Turn:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidRequest("model: Field required", "model")
        max_tokens = require_int(body, "max_tokens")
        if max_tokens is None:
            raise InvalidRequest("max_tokens: Field required", "max_tokens")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequest("messages: at least one message is required", "messages")
        if body.get("stream"):
            raise InvalidRequest("stream: streaming is not supported by the agentbatch emulator", "stream")
        tools, prompt_words = _tools(body.get("tools"))
        mode, forced = _tool_choice(body.get("tool_choice"))
        if mode in ("required", "named") and not tools:
            raise InvalidRequest("tool_choice: requires `tools` to be specified", "tool_choice")
        prompt_words += count_words(text_of_parts(body.get("system")))
        for message in messages:
            if not isinstance(message, dict):
                raise InvalidRequest("messages: each message must be an object", "messages")
            prompt_words += _words_of_content(message.get("content"))
        user_text, steps = _latest_user_text(messages)
        return Turn(
            model=model,
            directives=parse_directives(user_text),
            steps_taken=steps,
            tools=tools,
            tool_choice=mode,
            forced_tool=forced,
            max_tokens=max_tokens,
            prompt_tokens=prompt_words,
        )

    def render(self, turn: Turn, reply: Reply, ids: IdMaker) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if reply.text is not None:
            content.append({"type": "text", "text": reply.text})
        for index, call in enumerate(reply.tool_calls):
            tool_input = call.input if call.input is not None else {INVALID_JSON_KEY: call.arguments}
            content.append(
                {
                    "type": "tool_use",
                    "id": ids.make("toolu_01", f"tool-{index}", 22),
                    "name": call.name,
                    "input": tool_input,
                }
            )
        # Anthropic counts cached prompt tokens apart from input_tokens; the prompt is their sum.
        cache_read = min(turn.directives.cache_read, turn.prompt_tokens)
        cache_write = min(turn.directives.cache_write, turn.prompt_tokens - cache_read)
        return {
            "id": ids.make("msg_01", "message", 22),
            "type": "message",
            "role": "assistant",
            "model": turn.model,
            "content": content,
            "stop_reason": _STOP_REASONS[reply.stop],
            "stop_sequence": None,
            "usage": {
                "input_tokens": turn.prompt_tokens - cache_read - cache_write,
                "output_tokens": reply.completion_tokens,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read,
                "cache_creation": {**_CACHE_CREATION, "ephemeral_5m_input_tokens": cache_write},
                "server_tool_use": None,
                "service_tier": self.service_tier,
            },
        }

    def error(
        self,
        status: int,
        message: str | None,
        *,
        request_id: str,
        retry_after_ms: int,
        param: str | None = None,
    ) -> ErrorReply:
        return anthropic_error(status, message, request_id=request_id, retry_after_ms=retry_after_ms)


def _tools(tools: object) -> tuple[tuple[ToolSpec, ...], int]:
    if tools is None:
        return (), 0
    if not isinstance(tools, list):
        raise InvalidRequest("tools: expected an array", "tools")
    specs: list[ToolSpec] = []
    words = 0
    for tool in tools:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise InvalidRequest("tools: each tool needs a name", "tools")
        description = tool.get("description")
        words += 1 + (count_words(description) if isinstance(description, str) else 0)
        specs.append(ToolSpec(tool["name"], tool.get("input_schema")))
    return tuple(specs), words


def _tool_choice(choice: object) -> tuple[ToolChoiceMode, str | None]:
    if choice is None:
        return "auto", None
    kind = choice.get("type") if isinstance(choice, dict) else None
    mode = _TOOL_CHOICES.get(kind) if isinstance(kind, str) else None
    if mode is None:
        raise InvalidRequest("tool_choice: expected type auto, any, tool or none", "tool_choice")
    if mode != "named":
        return mode, None
    name = choice.get("name") if isinstance(choice, dict) else None
    if not isinstance(name, str):
        raise InvalidRequest("tool_choice.name: Field required", "tool_choice")
    return mode, name


def _words_of_content(content: object) -> int:
    """Words of a message's text, including the text inside its tool_result blocks."""
    if isinstance(content, str):
        return count_words(content)
    words = 0
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                words += count_words(block["text"])
            elif kind == "tool_result":
                words += count_words(text_of_parts(block.get("content")))
    return words


def _latest_user_text(messages: list[Any]) -> tuple[str, int]:
    """The text of the latest user message that is not only tool results, and the tool-use
    assistant messages after it."""
    steps = 0
    for message in reversed(messages):
        role = message.get("role")
        content = message.get("content")
        if role == "assistant":
            if isinstance(content, list) and any(
                isinstance(block, dict) and block.get("type") == "tool_use" for block in content
            ):
                steps += 1
        elif role == "user" and not _only_tool_results(content):
            return text_of_parts(content), steps
    return "", steps


def _only_tool_results(content: object) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(block, dict) and block.get("type") == "tool_result" for block in content)
    )
