"""What a claimed item's turn starts from: its agent (with blocks and tools) and the agent's history,
loaded for many items in a handful of queries."""

from dataclasses import dataclass
from typing import Protocol

from agentbatch.domain.agents import Agent
from agentbatch.domain.messages import Message
from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.store import agents as agent_store
from agentbatch.store import messages as message_store
from agentbatch.store.database import Database


@dataclass(slots=True)
class TurnContext:
    agent: Agent | None
    """None when the agent no longer exists (the turn is rejected)."""
    history: list[Message]


class TurnContextSource(Protocol):
    async def load(self, items: list[ClaimedItem]) -> dict[str, TurnContext]:
        """Per item id, its turn's context."""
        ...


class StoredTurnContexts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, items: list[ClaimedItem]) -> dict[str, TurnContext]:
        by_owner: dict[str, set[str]] = {}
        for item in items:
            by_owner.setdefault(item.owner_id, set()).add(item.agent_id)
        async with self._db.read() as conn:
            found: dict[str, Agent] = {}
            for owner, agent_ids in by_owner.items():
                found.update(await agent_store.load_agents(conn, owner, agent_ids))
            histories = await message_store.histories(conn, list(found))
        return {
            item.id: TurnContext(found.get(item.agent_id), histories.get(item.agent_id, [])) for item in items
        }
