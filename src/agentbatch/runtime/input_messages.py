"""A request's plain input messages as entries of the agent's history."""

from datetime import datetime

from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.messages import Message, Role
from agentbatch.domain.turn_requests import TurnRequest


def input_messages(
    request: TurnRequest, agent_id: str, now: datetime, tags: dict[str, str | None]
) -> list[Message]:
    """The request's plain messages, tagged with the turn's batch, item and run (approval replies are
    handled apart, ``approvals.py``)."""
    return [
        Message(
            id=new_id(IdPrefix.MESSAGE),
            agent_id=agent_id,
            role=Role(message.role),
            created_at=now,
            content=list(message.content),
            name=message.name,
            otid=message.otid,
            sender_id=message.sender_id,
            group_id=message.group_id,
            batch_id=tags.get("batch_id"),
            batch_item_id=tags.get("batch_item_id"),
            run_id=tags.get("run_id"),
        )
        for message in request.input_messages
    ]
