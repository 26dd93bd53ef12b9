"""Neutral requests/responses ⇄ Anthropic Messages JSON (direct calls and Message Batches)."""

from collections.abc import Sequence
from typing import Any

import orjson

from agentbatch.domain.messages import Message, Role, ToolCall
from agentbatch.providers.base import Finish, ModelRequest, ModelResponse
from agentbatch.providers.errors import InvalidResponse

DEFAULT_MAX_TOKENS = 4096
_FINISH: dict[str | None, Finish] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
}
_TOOL_CHOICE = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}


def request_body(request: ModelRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "system": request.system,
        "messages": wire_messages(request.messages),
    }
    if request.tools:
        body["tools"] = [
            {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
            for tool in request.tools
        ]
        choice: dict[str, Any] = dict(_TOOL_CHOICE[request.tool_choice])
        if request.tool_choice != "none":
            choice["disable_parallel_tool_use"] = not request.parallel_tool_calls
        body["tool_choice"] = choice
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def wire_messages(history: Sequence[Message]) -> list[dict[str, Any]]:
    """Anthropic wants alternating user/assistant turns: consecutive same-role blocks are merged."""
    wire: list[dict[str, Any]] = []
    for message in history:
        role, blocks = _blocks(message)
        if not blocks:
            continue
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})
    return wire


def _blocks(message: Message) -> tuple[str, list[dict[str, Any]]]:
    if message.role in (Role.USER, Role.SYSTEM):
        return "user", [_user_block(part) for part in message.content]
    if message.role is Role.TOOL:
        return "user", [
            {
                "type": "tool_result",
                "tool_use_id": ret.tool_call_id,
                "content": ret.content,
                "is_error": ret.status == "error",
            }
            for ret in message.tool_returns
        ]
    if message.role is Role.ASSISTANT or (message.role is Role.APPROVAL and message.tool_calls):
        blocks: list[dict[str, Any]] = [{"type": "text", "text": message.text}] if message.text else []
        blocks.extend(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": _tool_input(call.arguments)}
            for call in message.tool_calls
        )
        return "assistant", blocks
    return "user", []


def _user_block(part: dict[str, Any]) -> dict[str, Any]:
    if part.get("type") == "image":
        source = part.get("source", {})
        if source.get("type") == "url":
            return {"type": "image", "source": {"type": "url", "url": source.get("url")}}
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": source.get("media_type"), "data": source.get("data")},
        }
    return {"type": "text", "text": str(part.get("text", ""))}


def _tool_input(arguments: str) -> dict[str, Any]:
    """The arguments as Anthropic's ``input`` object; text that is not one goes back in the
    ``INVALID_JSON`` wrapper it arrived in, so the model sees what it really produced."""
    try:
        parsed = orjson.loads(arguments) if arguments else {}
    except orjson.JSONDecodeError:
        return {"INVALID_JSON": arguments}
    return parsed if isinstance(parsed, dict) else {"INVALID_JSON": arguments}


def parse_response(body: Any) -> ModelResponse:
    try:
        texts: list[str] = []
        calls: list[ToolCall] = []
        reasoning: list[dict[str, Any]] = []
        for block in body["content"]:
            kind = block.get("type")
            if kind == "text":
                texts.append(block["text"])
            elif kind == "tool_use":
                calls.append(
                    ToolCall(id=block["id"], name=block["name"], arguments=_arguments(block.get("input")))
                )
            elif kind == "thinking":
                reasoning.append(
                    {
                        "type": "reasoning",
                        "reasoning": block.get("thinking", ""),
                        "is_native": True,
                        "signature": block.get("signature"),
                    }
                )
            elif kind == "redacted_thinking":
                reasoning.append({"type": "redacted_reasoning", "data": block.get("data", "")})
        usage = body.get("usage") or {}
        # Anthropic's input_tokens leave out the cached part: the prompt is all three together.
        cache_read = int(usage.get("cache_read_input_tokens") or 0)
        cache_write = int(usage.get("cache_creation_input_tokens") or 0)
        return ModelResponse(
            text="".join(texts),
            tool_calls=calls,
            finish=_FINISH.get(body.get("stop_reason"), "other"),
            prompt_tokens=int(usage.get("input_tokens") or 0) + cache_read + cache_write,
            completion_tokens=int(usage.get("output_tokens") or 0),
            model=str(body.get("model", "")),
            reasoning=reasoning,
            cached_tokens=cache_read,
            cache_write_tokens=cache_write,
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise InvalidResponse(f"unusable message: {orjson.dumps(body)[:300]!r}") from error


def _arguments(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"INVALID_JSON"} and isinstance(value["INVALID_JSON"], str):
        return value["INVALID_JSON"]  # Anthropic's wrapper for arguments that were not valid JSON
    return orjson.dumps(value if value is not None else {}).decode()
