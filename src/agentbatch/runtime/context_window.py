"""Fitting a step's prompt into the model's context window.

The newest messages that fit are sent; older ones leave the window but stay in the database, where
``conversation_search`` still finds them (MemGPT's recall memory). A tool call is never separated from
its results, and the window never opens on a tool result or an approval reply. If the system prompt,
memory and tools alone leave no room for the turn's own newest message, the turn stops with
``context_window_overflow_in_system_prompt``.

Tokens are estimated, not counted (about four characters a token, plus a little per message): the
estimate only has to keep requests clear of the limit, and it costs nothing per step.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from agentbatch.domain.messages import CHARS_PER_TOKEN, Message, Role, estimated_tokens
from agentbatch.providers.base import ToolSpec

DEFAULT_OUTPUT_RESERVE = 4096
DEFAULT_CONTEXT_WINDOW = 128_000


@dataclass(frozen=True, slots=True)
class Window:
    messages: list[Message]
    dropped: int
    """How many older messages were left out."""


class SystemPromptOverflow(Exception):
    pass


def estimate_tokens(text: str | bytes) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def context_window_of(llm_config: Mapping[str, Any]) -> int:
    """The agent's context window in tokens (its ``llm_config``, else 128,000)."""
    return int(llm_config.get("context_window") or DEFAULT_CONTEXT_WINDOW)


def _schema_text(parameters: Mapping[str, object]) -> str | bytes:
    """A tool schema as JSON, to be sized: orjson's, not str()'s (the same size to a few percent at a
    seventh of the cost, paid for every tool at every step); str() only for what orjson refuses (an int
    past 64 bits)."""
    try:
        return orjson.dumps(parameters)
    except orjson.JSONEncodeError:
        return str(parameters)


def output_reserve(context_window: int, max_tokens: int | None) -> int:
    """Room kept for the reply: the agent's max_tokens, else 4,096 — never more than a quarter."""
    return min(max_tokens or DEFAULT_OUTPUT_RESERVE, context_window // 4)


def fit(
    system: str,
    tools: Sequence[ToolSpec],
    history: Sequence[Message],
    context_window: int,
    output_reserve: int,
) -> Window:
    """The newest messages that fit beside the system prompt and tools (SystemPromptOverflow if none)."""
    fixed = estimate_tokens(system) + sum(
        estimate_tokens(tool.name + tool.description) + estimate_tokens(_schema_text(tool.parameters))
        for tool in tools
    )
    budget = context_window - output_reserve - fixed
    if not history:
        if budget < 0:
            raise SystemPromptOverflow(_overflow(fixed, context_window, output_reserve))
        return Window(list(history), 0)
    start = len(history)
    used = 0
    while start > 0:
        cost = estimated_tokens(history[start - 1])
        if used + cost > budget:
            break
        used += cost
        start -= 1
    start = _safe_start(history, start)
    if start >= len(history):
        raise SystemPromptOverflow(_overflow(fixed, context_window, output_reserve))
    return Window(list(history[start:]), start)


def _safe_start(history: Sequence[Message], start: int) -> int:
    """Move the window's first message forward past tool results whose call fell out of the window,
    and past approval replies (they hold no call: the results after them answer an earlier one)."""
    while start < len(history) and _answers_earlier_call(history[start]):
        start += 1
    return start


def _answers_earlier_call(message: Message) -> bool:
    return message.role is Role.TOOL or (message.role is Role.APPROVAL and not message.tool_calls)


def _overflow(fixed: int, context_window: int, output_reserve: int) -> str:
    return (
        f"the system prompt, memory blocks and tools take about {fixed} tokens; with {output_reserve} "
        f"reserved for the reply they leave no room for the conversation in a {context_window}-token window"
    )


def window_note(dropped: int) -> str:
    return (
        f"\n\n[{dropped} older messages of this conversation are outside your context window; "
        "use conversation_search to recall them.]"
    )
