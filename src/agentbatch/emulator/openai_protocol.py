"""OpenAI chat completions: request parsing and ``chat.completion`` rendering."""

import time
from typing import Any

from agentbatch.emulator.directives import parse_directives
from agentbatch.emulator.faults import ErrorReply, openai_error
from agentbatch.emulator.ids import IdMaker
from agentbatch.emulator.protocol import InvalidRequest, require_int, text_of_parts
from agentbatch.emulator.scripting import Reply, Stop, ToolChoiceMode, ToolSpec, Turn, count_words

_FINISH_REASONS = {Stop.END: "stop", Stop.TOOL_USE: "tool_calls", Stop.LENGTH: "length"}
_PROMPT_DETAILS = {"cached_tokens": 0, "audio_tokens": 0}
_COMPLETION_DETAILS = {
    "reasoning_tokens": 0,
    "audio_tokens": 0,
    "accepted_prediction_tokens": 0,
    "rejected_prediction_tokens": 0,
}


class OpenAIChatProtocol:
    """``POST /v1/chat/completions`` (non-streaming)."""

    is_anthropic = False
    request_id_header = "x-request-id"

    def parse(self, body: dict[str, Any]) -> Turn:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidRequest("you must provide a model parameter", "model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequest("'messages' must be a non-empty array", "messages")
        if body.get("stream"):
            raise InvalidRequest("stream=true is not supported by the agentbatch emulator", "stream")
        max_tokens = require_int(body, "max_completion_tokens")
        if max_tokens is None:
            max_tokens = require_int(body, "max_tokens")
        tools, prompt_words = _tools(body.get("tools"))
        mode, forced = _tool_choice(body.get("tool_choice"))
        if mode in ("required", "named") and not tools:
            raise InvalidRequest("'tool_choice' is only allowed when 'tools' are specified", "tool_choice")
        user_text, steps = _latest_user_text(messages)
        for message in messages:
            if isinstance(message, dict):
                prompt_words += count_words(text_of_parts(message.get("content")))
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
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text,
            "refusal": None,
            "annotations": [],
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": ids.make("call_", f"call-{index}"),
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for index, call in enumerate(reply.tool_calls)
            ]
        return {
            "id": ids.make("chatcmpl-", "completion"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": turn.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": _FINISH_REASONS[reply.stop],
                }
            ],
            "usage": {
                "prompt_tokens": turn.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": turn.prompt_tokens + reply.completion_tokens,
                "prompt_tokens_details": {
                    **_PROMPT_DETAILS,
                    "cached_tokens": min(turn.directives.cache_read, turn.prompt_tokens),
                },
                "completion_tokens_details": _COMPLETION_DETAILS,
            },
            "service_tier": "default",
            "system_fingerprint": "fp_agentbatch_emulator",
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
        reply = openai_error(status, message, param=param, retry_after_ms=retry_after_ms)
        if request_id:
            reply.headers[self.request_id_header] = request_id
        return reply


def _tools(tools: object) -> tuple[tuple[ToolSpec, ...], int]:
    """The offered tools and the number of words in their names and descriptions."""
    if tools is None:
        return (), 0
    if not isinstance(tools, list):
        raise InvalidRequest("'tools' must be an array", "tools")
    specs: list[ToolSpec] = []
    words = 0
    for tool in tools:
        definition = (tool.get("function") or tool.get("custom")) if isinstance(tool, dict) else None
        if not isinstance(definition, dict) or not isinstance(definition.get("name"), str):
            raise InvalidRequest("each tool must have a function with a name", "tools")
        description = definition.get("description")
        words += 1 + (count_words(description) if isinstance(description, str) else 0)
        specs.append(ToolSpec(definition["name"], definition.get("parameters")))
    return tuple(specs), words


def _tool_choice(choice: object) -> tuple[ToolChoiceMode, str | None]:
    if choice is None or choice == "auto":
        return "auto", None
    if choice in ("none", "required"):
        return ("none" if choice == "none" else "required"), None
    if isinstance(choice, dict):
        kind = choice.get("type")
        named = choice.get(kind) if kind in ("function", "custom") else None
        if isinstance(named, dict) and isinstance(named.get("name"), str):
            return "named", named["name"]
        allowed = choice.get("allowed_tools") if kind == "allowed_tools" else None
        if isinstance(allowed, dict) and allowed.get("mode") in ("auto", "required"):
            return ("required" if allowed["mode"] == "required" else "auto"), None
    raise InvalidRequest("invalid 'tool_choice'", "tool_choice")


def _latest_user_text(messages: list[Any]) -> tuple[str, int]:
    """The text of the latest user message and the assistant tool-call messages after it."""
    steps = 0
    for message in reversed(messages):
        if not isinstance(message, dict):
            raise InvalidRequest("each message must be an object", "messages")
        role = message.get("role")
        if role == "user":
            return text_of_parts(message.get("content")), steps
        if role == "assistant" and message.get("tool_calls"):
            steps += 1
    return "", steps
