"""The body of one agent turn: messages (or ``input``) plus per-request options.

Shared by ``POST /v1/messages/batches`` (one per request) and ``POST /v1/agents/{id}/messages``.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

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
    assistant_message_tool_name: str = "send_message"
    assistant_message_tool_kwarg: str = "message"
    include_return_message_types: list[MessageType] | None = None
    enable_thinking: str | None = None
    client_tools: list[ClientTool] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "TurnIn":
        if (self.messages is None) == (self.input is None):
            raise ValueError("give exactly one of `messages` or `input`")
        return self

    def normalised(self) -> dict[str, Any]:
        """The stored form: the options the caller set, unknown Letta options as given, and the messages
        (``input`` becomes one user message, string content a text part). Built by hand: a batch may
        hold 100,000 of these, and a generic dump costs several times more."""
        body: dict[str, Any] = {
            name: value
            for name in self.model_fields_set & _OPTIONS
            if (value := getattr(self, name)) is not None
        }
        if self.client_tools:
            body["client_tools"] = [
                tool.model_dump(mode="json", exclude_none=True) for tool in self.client_tools
            ]
        if self.__pydantic_extra__:
            body.update(self.__pydantic_extra__)
        if self.input is not None:
            messages: list[dict[str, Any]] = [
                {"type": "message", "role": "user", "content": _parts(self.input)}
            ]
        else:
            assert self.messages is not None
            messages = [_normalised_message(message) for message in self.messages]
        body["messages"] = messages
        return body


_OPTIONS = frozenset(
    {
        "max_steps",
        "use_assistant_message",
        "assistant_message_tool_name",
        "assistant_message_tool_kwarg",
        "include_return_message_types",
        "enable_thinking",
    }
)


def _parts(content: str | list[TextPart | ImagePart]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [part.model_dump(mode="json", exclude_none=True) for part in content]


def _normalised_message(message: MessageIn | ApprovalIn) -> dict[str, Any]:
    if isinstance(message, ApprovalIn):
        return message.model_dump(mode="json", exclude_none=True)
    dumped = message.model_dump(mode="json", exclude_none=True, exclude={"content", "batch_item_id"})
    dumped["type"] = "message"
    dumped["content"] = _parts(message.content)
    return dumped


class SendMessageIn(TurnIn):
    """``POST /v1/agents/{id}/messages``: a turn, plus the SDK's streaming switches."""

    streaming: bool = False
    stream_tokens: bool = False
    background: bool = False
