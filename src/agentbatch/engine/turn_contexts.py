"""What a claimed item's turn starts from: its agent (with blocks and tools) and the newest messages of
the agent's history that its context window could hold (older ones stay in the database, where
``conversation_search`` finds them through ``StoredRecall``), loaded for many items in a handful of
queries."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from agentbatch.domain.agents import Agent
from agentbatch.domain.messages import Message
from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.runtime.context_window import context_window_of
from agentbatch.runtime.ports import Recall
from agentbatch.store import agents as agent_store
from agentbatch.store import messages as message_store
from agentbatch.store.database import Database


@dataclass(slots=True)
class TurnContext:
    agent: Agent | None
    """None when the agent no longer exists (the turn is rejected)."""
    history: list[Message]
    earlier: int = 0
    """The agent's older messages, not loaded: too old for its context window."""
    recall: Recall | None = None
    """The whole history, read when a turn searches it (``conversation_search``)."""


RECALL_PAGE = 500
"""Messages a search reads at a time, newest first."""


class StoredRecall:
    """An agent's history read from the store when a search asks, newest first, a page at a time (each
    page its own short read: a search that finds enough in the newest pages reads no further)."""

    def __init__(self, db: Database, agent_id: str) -> None:
        self._db = db
        self._agent_id = agent_id

    async def newest_first(self) -> AsyncIterator[list[Message]]:
        before: int | None = None
        while True:
            async with self._db.read() as conn:
                page = await message_store.older_messages(
                    conn, self._agent_id, before=before, limit=RECALL_PAGE
                )
            if page:
                yield [message for _seq, message in page]
            if len(page) < RECALL_PAGE:
                return
            before = page[-1][0]


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
            tokens = max((context_window_of(agent.llm_config) for agent in found.values()), default=0)
            histories = await message_store.recent_histories(
                conn, list(found), tokens=tokens, item_ids=[item.id for item in items if item.step_count]
            )
        contexts: dict[str, TurnContext] = {}
        for item in items:
            recent = histories.get(item.agent_id)
            if recent is None:
                contexts[item.id] = TurnContext(found.get(item.agent_id), [])
                continue
            recall = StoredRecall(self._db, item.agent_id)  # the runtime reads it only if ``earlier``
            contexts[item.id] = TurnContext(found[item.agent_id], recent.messages, recent.earlier, recall)
        return contexts
