"""The one protocol every provider adapter implements, and its neutral request/response types.

The runtime speaks only these types; each provider module translates them to and from its SDK's wire
format (the same translation serves direct calls and provider batch lines).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from agentbatch.domain.messages import ContentPart, Message, ToolCall

ToolChoice = Literal["auto", "required", "none"]
Finish = Literal["stop", "tool_calls", "length", "other"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModelRequest:
    model: str
    """The provider's own model name (the part after ``provider/`` in a handle)."""
    system: str
    messages: Sequence[Message]
    tools: Sequence[ToolSpec] = ()
    tool_choice: ToolChoice = "auto"
    max_tokens: int | None = None
    temperature: float | None = None
    parallel_tool_calls: bool = False


@dataclass(frozen=True, slots=True)
class ModelResponse:
    text: str
    tool_calls: list[ToolCall]
    finish: Finish
    prompt_tokens: int
    completion_tokens: int
    model: str
    reasoning: list[ContentPart] = field(default_factory=list)
    cached_tokens: int = 0
    """The part of ``prompt_tokens`` read from the provider's prompt cache."""
    cache_write_tokens: int = 0
    """The part of ``prompt_tokens`` written to the prompt cache (Anthropic charges these extra)."""


class ChatModel(Protocol):
    """One provider endpoint. Raises only ``agentbatch.providers.errors.ProviderError``."""

    async def complete(self, request: ModelRequest) -> ModelResponse: ...

    async def close(self) -> None: ...
