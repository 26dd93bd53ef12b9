"""What one agent turn is asked to do: its input messages and per-request options.

A ``TurnRequest`` is built by the API from a request body, stored with its item (the store owns the JSON
form, ``store/turn_request_json.py``) and read by the runtime's turn loop. Every default of a turn's
options is written here and nowhere else. The records are frozen, but built with ``fast_frozen_init``'s
``__init__``: a large batch builds two per request.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agentbatch.domain.frozen_init import fast_frozen_init
from agentbatch.domain.messages import ContentPart

DEFAULT_ASSISTANT_TOOL_NAME = "send_message"
"""The tool whose calls are shown as ``assistant_message`` (Letta's default)."""
DEFAULT_ASSISTANT_TOOL_KWARG = "message"
"""The argument of that tool that holds the text."""

InputRole = Literal["user", "system", "assistant"]
JsonObject = Mapping[str, Any]
"""A JSON object kept as the client sent it (unknown Letta fields, content parts, a tool's schema)."""


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class InputMessage:
    """A plain message of the request, its content normalised to a list of content parts."""

    role: InputRole
    content: tuple[ContentPart, ...]
    name: str | None = None
    otid: str | None = None
    sender_id: str | None = None
    group_id: str | None = None
    extra: JsonObject = field(default_factory=dict)
    """Fields Letta knows and this server does not use, kept as given."""


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """Approve or deny one waiting tool call."""

    tool_call_id: str
    approve: bool
    reason: str | None = None


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class ToolResultDecision:
    """The result of one waiting client-side tool call, run by the caller."""

    tool_call_id: str
    status: Literal["success", "error"]
    tool_return: str
    stdout: tuple[str, ...] | None = None
    stderr: tuple[str, ...] | None = None


Decision = ApprovalDecision | ToolResultDecision


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class ApprovalReply:
    """A reply to a paused turn: one answer for every waiting call (``approve``), or one per call."""

    approval_request_id: str | None = None
    approve: bool | None = None
    reason: str | None = None
    approvals: tuple[Decision, ...] | None = None
    group_id: str | None = None
    extra: JsonObject = field(default_factory=dict)

    def decision_for(self, tool_call_id: str) -> Decision | None:
        for decision in self.approvals or ():
            if decision.tool_call_id == tool_call_id:
                return decision
        return None


RequestMessage = InputMessage | ApprovalReply


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class ClientTool:
    """A tool the caller runs itself: the model may call it; the turn then pauses for its result."""

    name: str
    description: str | None = None
    parameters: JsonObject | None = None

    @property
    def described(self) -> str:
        return self.description or f"The client-side tool {self.name}."

    @property
    def schema(self) -> JsonObject:
        return self.parameters or {"type": "object", "properties": {}}


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class TurnRequest:
    """The messages and options of one turn. ``None`` options were not given by the caller."""

    messages: tuple[RequestMessage, ...] = ()
    max_steps: int | None = None
    """At most this many model calls; None: the server's ``AGENTBATCH_MAX_STEPS``."""
    use_assistant_message: bool = True
    assistant_message_tool_name: str = DEFAULT_ASSISTANT_TOOL_NAME
    assistant_message_tool_kwarg: str = DEFAULT_ASSISTANT_TOOL_KWARG
    include_return_message_types: tuple[str, ...] | None = None
    enable_thinking: str | None = None
    client_tools: tuple[ClientTool, ...] = ()
    extra: JsonObject = field(default_factory=dict)
    """Letta options this server accepts and keeps but does not act on."""

    def steps_limit(self, server_default: int) -> int:
        return self.max_steps or server_default

    @property
    def approval(self) -> ApprovalReply | None:
        """The approval reply this request carries, if it resumes a paused turn."""
        for message in self.messages:
            if isinstance(message, ApprovalReply):
                return message
        return None

    @property
    def input_messages(self) -> list[InputMessage]:
        """The plain messages (approval replies are handled apart)."""
        return [message for message in self.messages if isinstance(message, InputMessage)]
