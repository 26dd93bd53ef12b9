"""New queue items: what a submission hands the store, and the one function that turns them into rows.

A batch's requests and a synchronous send become items the same way: in the order given (their
``position``), each with its typed request stored as JSON (``domain/turn_request_json.py``), only an
agent's oldest unfinished item ``ready``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.states import ItemStatus
from agentbatch.domain.turn_request_json import request_to_json
from agentbatch.domain.turn_requests import TurnRequest


def _item_id() -> str:
    return new_id(IdPrefix.BATCH_ITEM)


@dataclass(slots=True)
class NewItem:
    """One turn to queue: for an agent (and the model it had when submitted), with its request. Not
    frozen, though nothing changes it: built by the 100,000 per large batch, where a frozen dataclass's
    ``__init__`` costs four times a plain one's (``benchmarks/overhead.py``, accept)."""

    agent_id: str
    model: str
    request: TurnRequest
    custom_id: str | None = None
    id: str = field(default_factory=_item_id)


def new_item_columns(
    items: Sequence[NewItem], *, busy_agents: set[str], first_position: int = 0
) -> dict[str, list[Any]]:
    """``batch_items`` columns that differ from row to row, for ``items`` in order (``store/bulk.py``;
    ``new_item_constants`` holds the rest); ``busy_agents`` (agents with an unfinished item) grows by
    every agent seen, so only each agent's first new item is ready when it had none. Columns rather
    than row dicts: a 100,000-request batch builds its rows in a third of the time
    (``benchmarks/overhead.py``, accept). ``first_position``: where ``items`` start in their batch,
    when it is written a part at a time."""
    agent_ids = [item.agent_id for item in items]
    ready = []
    for agent_id in agent_ids:
        ready.append(agent_id not in busy_agents)
        busy_agents.add(agent_id)
    return {
        "id": [item.id for item in items],
        "agent_id": agent_ids,
        "model": [item.model for item in items],
        "position": list(range(first_position, first_position + len(items))),
        "ready": ready,
        "request": [request_to_json(item.request) for item in items],
        "custom_id": [item.custom_id for item in items],
    }


def new_item_constants(
    *, batch_id: str | None, owner_id: str, priority: int, now: datetime
) -> dict[str, Any]:
    """The ``batch_items`` columns that all items queued together share."""
    return {
        "batch_id": batch_id,
        "owner_id": owner_id,
        "status": ItemStatus.PENDING.value,
        "claim_rank": -priority,
        "created_at": now,
    }
