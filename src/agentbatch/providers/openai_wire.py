"""Neutral requests/responses ⇄ OpenAI Chat Completions JSON (direct calls and Batch API lines)."""

from collections.abc import Sequence
from typing import Any

import orjson

from agentbatch.domain.messages import Message, Role, ToolCall
from agentbatch.providers.base import Finish, ModelRequest, ModelResponse
from agentbatch.providers.errors import InvalidResponse

_FINISH: dict[str | None, Finish] = {"stop": "stop", "tool_calls": "tool_calls", "length": "length"}


def request_body(request: ModelRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": wire_messages(request.system, request.messages),
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                },
            }
            for tool in request.tools
        ]
        body["tool_choice"] = request.tool_choice
        body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.max_tokens is not None:
        body["max_completion_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def wire_messages(system: str, history: Sequence[Message]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for message in history:
        if message.role is Role.USER:
            wire.append({"role": "user", "content": _user_content(message)})
        elif message.role is Role.SYSTEM:
            wire.append({"role": "system", "content": message.text})
        elif message.role is Role.ASSISTANT or (message.role is Role.APPROVAL and message.tool_calls):
            if message.text or message.tool_calls:  # an empty reply carries nothing (and null is refused)
                wire.append(_assistant(message))
        elif message.role is Role.TOOL:
            wire.extend(
                {"role": "tool", "tool_call_id": ret.tool_call_id, "content": ret.content}
                for ret in message.tool_returns
            )
    return wire


def _user_content(message: Message) -> str | list[dict[str, Any]]:
    if all(part.get("type", "text") == "text" for part in message.content):
        return message.text
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if part.get("type") == "image":
            source = part.get("source", {})
            url = source.get("url") or f"data:{source.get('media_type')};base64,{source.get('data')}"
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            parts.append({"type": "text", "text": str(part.get("text", ""))})
    return parts


def _assistant(message: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": "assistant", "content": message.text or None}
    if message.tool_calls:
        wire["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls
        ]
    return wire


def parse_response(body: Any) -> ModelResponse:
    """A chat completion (as JSON) to a neutral response; InvalidResponse if it has no usable choice."""
    try:
        choice = body["choices"][0]
        message = choice["message"]
        calls = [
            ToolCall(
                id=call["id"],
                name=call["function"]["name"],
                arguments=call["function"].get("arguments") or "",
            )
            for call in message.get("tool_calls") or ()
            if call.get("type", "function") == "function"
        ]
        usage = body.get("usage") or {}
        return ModelResponse(
            text=message.get("content") or "",
            tool_calls=calls,
            finish=_FINISH.get(choice.get("finish_reason"), "other"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            model=str(body.get("model", "")),
            cached_tokens=int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0),
        )
    except (KeyError, IndexError, TypeError, AttributeError) as error:
        raise InvalidResponse(f"unusable chat completion: {orjson.dumps(body)[:300]!r}") from error
