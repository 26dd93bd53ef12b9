"""The body of one agent turn: messages (or ``input``) plus per-request options.

Shared by ``POST /v1/messages/batches`` (one per request) and ``POST /v1/agents/{id}/messages``.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from agentbatch.domain import turn_requests as domain
from agentbatch.domain.messages import text_part
from agentbatch.domain.turn_requests import (
    DEFAULT_ASSISTANT_TOOL_KWARG,
    DEFAULT_ASSISTANT_TOOL_NAME,
    TurnRequest,
)

MessageType = Literal[
    "system_message",
    "user_message",
    "assistant_message",
    "reasoning_message",
    "hidden_reasoning_message",
    "tool_call_message",
    "tool_return_message",
    "approval_request_message",
    "approval_response_message",
]


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


class ImagePart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["image"]
    source: dict[str, Any]


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]
Content = str | Annotated[list[ContentPart], Field(min_length=1)]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["message"] | None = "message"
    role: Literal["user", "system", "assistant"]
    content: Content
    name: str | None = None
    otid: str | None = None
    sender_id: str | None = None
    batch_item_id: str | None = Field(default=None, description="Ignored: the server assigns it.")
    group_id: str | None = None


class ApprovalDecision(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["approval"] = "approval"
    tool_call_id: str
    approve: bool
    reason: str | None = None


class ToolResultIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["tool"]
    tool_call_id: str
    status: Literal["success", "error"]
    tool_return: str
    stdout: list[str] | None = None
    stderr: list[str] | None = None


Decision = Annotated[ApprovalDecision | ToolResultIn, Field(discriminator="type")]


class ApprovalIn(BaseModel):
    """A reply to a paused turn: approve or deny its tool calls, or return client-tool results."""

    model_config = ConfigDict(extra="allow")
    type: Literal["approval"]
    approval_request_id: str | None = None
    approve: bool | None = None
    reason: str | None = None
    approvals: list[Decision] | None = None
    group_id: str | None = None

    @model_validator(mode="after")
    def _says_something(self) -> "ApprovalIn":
        if self.approvals is None and self.approve is None:
            raise ValueError("an approval message needs `approvals` or `approve`")
        return self


def _message_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "approval" if kind == "approval" else "message"


InputMessage = Annotated[
    Annotated[MessageIn, Tag("message")] | Annotated[ApprovalIn, Tag("approval")],
    Discriminator(_message_kind),
]


class ClientTool(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class TurnIn(BaseModel):
    """Messages and options of one turn; unknown Letta options are accepted and kept."""

    model_config = ConfigDict(extra="allow")
    messages: Annotated[list[InputMessage], Field(min_length=1)] | None = None
    input: Content | None = None
    max_steps: int | None = Field(default=None, ge=1, le=10_000)
    use_assistant_message: bool = True
    assistant_message_tool_name: str = DEFAULT_ASSISTANT_TOOL_NAME
    assistant_message_tool_kwarg: str = DEFAULT_ASSISTANT_TOOL_KWARG
    include_return_message_types: list[MessageType] | None = None
    enable_thinking: str | None = None
    client_tools: list[ClientTool] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "TurnIn":
        if (self.messages is None) == (self.input is None):
            raise ValueError("give exactly one of `messages` or `input`")
        return self

    def to_request(self) -> TurnRequest:
        """The typed request (``input`` becomes one user message, string content a text part). Built
        field by field: a batch may hold 100,000 of these, and a generic dump costs several times more."""
        if self.input is not None:
            messages: tuple[domain.RequestMessage, ...] = (
                domain.InputMessage(role="user", content=_parts(self.input)),
            )
        else:
            assert self.messages is not None
            messages = tuple([_request_message(message) for message in self.messages])
        include = self.include_return_message_types
        return TurnRequest(
            messages=messages,
            max_steps=self.max_steps,
            use_assistant_message=self.use_assistant_message,
            assistant_message_tool_name=self.assistant_message_tool_name,
            assistant_message_tool_kwarg=self.assistant_message_tool_kwarg,
            include_return_message_types=None if include is None else tuple(include),
            enable_thinking=self.enable_thinking,
            client_tools=()
            if not self.client_tools
            else tuple([domain.ClientTool(t.name, t.description, t.parameters) for t in self.client_tools]),
            extra=self.__pydantic_extra__ or {},
        )


def _parts(content: str | list[TextPart | ImagePart]) -> tuple[dict[str, Any], ...]:
    if isinstance(content, str):
        return (text_part(content),)
    return tuple([part.model_dump(mode="json", exclude_none=True) for part in content])


def _request_message(message: MessageIn | ApprovalIn) -> domain.RequestMessage:
    if isinstance(message, ApprovalIn):
        return domain.ApprovalReply(
            approval_request_id=message.approval_request_id,
            approve=message.approve,
            reason=message.reason,
            approvals=None
            if message.approvals is None
            else tuple(_decision(decision) for decision in message.approvals),
            group_id=message.group_id,
            extra=message.__pydantic_extra__ or {},
        )
    return domain.InputMessage(
        role=message.role,
        content=_parts(message.content),
        name=message.name,
        otid=message.otid,
        sender_id=message.sender_id,
        group_id=message.group_id,
        extra=dict(message.__pydantic_extra__ or {}),
    )


def _decision(decision: ApprovalDecision | ToolResultIn) -> domain.Decision:
    if isinstance(decision, ToolResultIn):
        return domain.ToolResultDecision(
            tool_call_id=decision.tool_call_id,
            status=decision.status,
            tool_return=decision.tool_return,
            stdout=None if decision.stdout is None else tuple(decision.stdout),
            stderr=None if decision.stderr is None else tuple(decision.stderr),
        )
    return domain.ApprovalDecision(decision.tool_call_id, decision.approve, decision.reason)


class SendMessageIn(TurnIn):
    """``POST /v1/agents/{id}/messages``: a turn, plus the SDK's streaming switches."""

    streaming: bool = False
    stream_tokens: bool = False
    background: bool = False
