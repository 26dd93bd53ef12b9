"""A turn's request, read back from its stored (normalised) JSON body."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.messages import Message, Role


@dataclass(frozen=True, slots=True)
class ClientToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(slots=True)
class TurnRequest:
    messages: list[dict[str, Any]]
    max_steps: int
    use_assistant_message: bool = True
    assistant_message_tool_name: str = "send_message"
    assistant_message_tool_kwarg: str = "message"
    include_return_message_types: list[str] | None = None
    client_tools: list[ClientToolSpec] = field(default_factory=list)

    @classmethod
    def from_body(cls, body: dict[str, Any], default_max_steps: int) -> "TurnRequest":
        return cls(
            messages=list(body.get("messages", [])),
            max_steps=int(body.get("max_steps") or default_max_steps),
            use_assistant_message=bool(body.get("use_assistant_message", True)),
            assistant_message_tool_name=str(body.get("assistant_message_tool_name", "send_message")),
            assistant_message_tool_kwarg=str(body.get("assistant_message_tool_kwarg", "message")),
            include_return_message_types=body.get("include_return_message_types"),
            client_tools=[
                ClientToolSpec(
                    name=tool["name"],
                    description=tool.get("description") or f"The client-side tool {tool['name']}.",
                    parameters=tool.get("parameters") or {"type": "object", "properties": {}},
                )
                for tool in body.get("client_tools") or ()
            ],
        )

    @property
    def approval(self) -> dict[str, Any] | None:
        """The approval reply this request carries, if it resumes a paused turn."""
        for message in self.messages:
            if message.get("type") == "approval":
                return message
        return None

    def input_messages(self, agent_id: str, now: datetime, tags: dict[str, str | None]) -> list[Message]:
        """The request's plain messages as history entries (approval replies are handled apart)."""
        return [
            Message(
                id=new_id(IdPrefix.MESSAGE),
                agent_id=agent_id,
                role=Role(message["role"]),
                created_at=now,
                content=list(message["content"]),
                name=message.get("name"),
                otid=message.get("otid"),
                sender_id=message.get("sender_id"),
                group_id=message.get("group_id"),
                batch_id=tags.get("batch_id"),
                batch_item_id=tags.get("batch_item_id"),
                run_id=tags.get("run_id"),
            )
            for message in self.messages
            if message.get("type", "message") == "message"
        ]
