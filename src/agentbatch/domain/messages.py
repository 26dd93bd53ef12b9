"""The neutral message model: what an agent's history is made of, independent of any wire format.

A message's ``content`` is a list of Letta content parts (plain JSON objects, each with a ``type``):
``text``, ``image``, ``reasoning``, ``redacted_reasoning``, ``omitted_reasoning``, … They are kept as
the client sent them, so nothing is lost between the API, the store and the providers.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

ContentPart = dict[str, Any]
ToolStatus = Literal["success", "error"]


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"
    SYSTEM = "system"
    APPROVAL = "approval"


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """The arguments exactly as the model produced them (a JSON text, or not, if the model erred)."""


@dataclass(frozen=True, slots=True)
class ToolReturn:
    tool_call_id: str
    status: ToolStatus
    content: str
    stdout: list[str] | None = None
    stderr: list[str] | None = None


@dataclass(slots=True)
class Message:
    id: str
    agent_id: str
    role: Role
    created_at: datetime
    content: list[ContentPart] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    tool_returns: list[ToolReturn] = field(default_factory=list)
    name: str | None = None
    otid: str | None = None
    sender_id: str | None = None
    group_id: str | None = None
    batch_id: str | None = None
    batch_item_id: str | None = None
    step_id: str | None = None
    run_id: str | None = None
    model: str | None = None
    is_err: bool = False
    approval_request_id: str | None = None
    approve: bool | None = None
    denial_reason: str | None = None
    approvals: list[dict[str, Any]] = field(default_factory=list)
    created_by_id: str | None = None

    @property
    def text(self) -> str:
        return text_of(self.content)


CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 6


def estimated_tokens(message: Message) -> int:
    """What the message takes of a prompt, estimated (about four characters a token, plus a little per
    message): its text, its tool calls and its tool results. The runtime fits prompts into the context
    window with it; the store keeps it with each message, so a turn loads only the newest messages that
    could fit (``store/messages.py``, ``recent_histories``)."""
    size = len(message.text)
    for call in message.tool_calls:
        size += len(call.name) + len(call.arguments)
    for ret in message.tool_returns:
        size += len(ret.content)
    return size // CHARS_PER_TOKEN + TOKENS_PER_MESSAGE


def text_part(text: str) -> ContentPart:
    return {"type": "text", "text": text}


def text_of(parts: list[ContentPart]) -> str:
    """The concatenated text of the text parts (other parts carry no plain text)."""
    return "".join(str(part.get("text", "")) for part in parts if part.get("type", "text") == "text")
