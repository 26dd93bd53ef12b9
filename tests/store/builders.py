"""Records to store in tests of the store, and the few writes that stand in for the engine.

Everything a test builds gets fresh ids; times are given explicitly where an order depends on them.
``finish_item`` writes what a turn's last commit would leave on an item (status, usage, cost), so the
read side of batches and results can be tested without running turns or the queue.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from agentbatch.domain.agents import Agent, AgentType, Block, Tool, ToolType
from agentbatch.domain.batches import Batch
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.messages import Message, Role, text_part
from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason
from agentbatch.domain.turn_requests import InputMessage, TurnRequest
from agentbatch.store import agents as agent_store
from agentbatch.store import batches as batch_store
from agentbatch.store.database import Database
from agentbatch.store.new_items import NewItem
from agentbatch.store.tables import batch_items

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A moment ``seconds`` after a fixed start, so orders by time are the test's to choose."""
    return T0 + timedelta(seconds=seconds)


def block(label: str, value: str = "", *, limit: int = 5_000, read_only: bool = False) -> Block:
    return Block(
        id=new_id(IdPrefix.BLOCK),
        label=label,
        value=value,
        limit=limit,
        description=f"what the agent knows: {label}",
        read_only=read_only,
        metadata={"source": "test"},
    )


def tool(owner: str | None, name: str, *, created_at: datetime = T0) -> Tool:
    return Tool(
        id=new_id(IdPrefix.TOOL),
        name=name,
        tool_type=ToolType.CUSTOM,
        json_schema={"name": name, "parameters": {"type": "object", "properties": {}}},
        description=f"{name} does one thing",
        source_code=f"def {name}():\n    return 'ok'\n",
        source_type="python",
        tags=["test"],
        owner_id=owner,
        created_at=created_at,
        updated_at=created_at,
    )


def agent(
    owner: str,
    *,
    name: str = "agent",
    created_at: datetime = T0,
    tags: Sequence[str] = (),
    blocks: Sequence[Block] = (),
    tools: Sequence[Tool] = (),
    model: str | None = "openai/gpt-4o-mini",
) -> Agent:
    return Agent(
        id=new_id(IdPrefix.AGENT),
        owner_id=owner,
        name=name,
        agent_type=AgentType.LETTA_V1,
        system="You are a careful assistant.",
        model=model,
        llm_config={"model": "gpt-4o-mini", "model_endpoint_type": "openai", "context_window": 128000},
        created_at=created_at,
        updated_at=created_at,
        tags=list(tags),
        blocks=list(blocks),
        tools=list(tools),
    )


async def store_agent(db: Database, new: Agent) -> Agent:
    async with db.write() as conn:
        await agent_store.insert_agent(conn, new)
    return new


def message(
    agent_id: str,
    text: str,
    *,
    role: Role = Role.USER,
    batch_id: str | None = None,
    item_id: str | None = None,
    created_at: datetime = T0,
) -> Message:
    return Message(
        id=new_id(IdPrefix.MESSAGE),
        agent_id=agent_id,
        role=role,
        created_at=created_at,
        content=[text_part(text)],
        batch_id=batch_id,
        batch_item_id=item_id,
    )


def request(text: str) -> TurnRequest:
    return TurnRequest(messages=(InputMessage(role="user", content=(text_part(text),)),))


@dataclass(frozen=True, slots=True)
class StoredBatch:
    batch: Batch
    items: list[NewItem]

    @property
    def id(self) -> str:
        return self.batch.id

    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.items]


async def store_batch(
    db: Database,
    owner: str,
    agent_ids: Sequence[str],
    *,
    created_at: datetime = T0,
    custom_ids: Sequence[str | None] | None = None,
    callback_url: str | None = None,
    expires_at: datetime | None = None,
    model: str = "openai/gpt-4o-mini",
    text: str = "request",
    texts: Sequence[str] | None = None,
    metadata: dict[str, object] | None = None,
) -> StoredBatch:
    """A batch with one request per agent id given (an agent may appear more than once): ``text`` and
    the request's number, or each of ``texts`` exactly as given."""
    batch = Batch(
        id=new_id(IdPrefix.BATCH),
        owner_id=owner,
        status=BatchStatus.CREATED,
        request_count=len(agent_ids),
        created_at=created_at,
        updated_at=created_at,
        metadata=metadata if metadata is not None else {"suite": "store"},
        callback_url=callback_url,
        expires_at=expires_at,
    )
    names = custom_ids if custom_ids is not None else [None] * len(agent_ids)
    request_texts = texts if texts is not None else [f"{text} {n}" for n in range(len(agent_ids))]
    items = [
        NewItem(agent_id, model, request(request_text), custom_id=custom_id)
        for agent_id, custom_id, request_text in zip(agent_ids, names, request_texts, strict=True)
    ]
    async with db.write() as conn:
        await batch_store.insert_batch(conn, batch, items)
    return StoredBatch(batch, items)


def agent_ids(count: int) -> list[str]:
    """Ids of agents that need not exist: items name their agent without a foreign key."""
    return [f"agent-{uuid.uuid4()}" for _ in range(count)]


async def finish_item(
    db: Database,
    item_id: str,
    stop: StopReason = StopReason.END_TURN,
    *,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    steps: int = 1,
    cost_nanos: int = 0,
    direct_cost_nanos: int = 0,
    completed_at: datetime = T0,
) -> None:
    """What the commit that ends a turn leaves on its item."""
    async with db.write() as conn:
        await conn.execute(
            update(batch_items)
            .where(batch_items.c.id == item_id)
            .values(
                status=stop.item_status.value,
                stop_reason=stop.value,
                ready=False,
                step_count=steps,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost_nanos=cost_nanos,
                direct_cost_nanos=direct_cost_nanos,
                completed_at=completed_at,
            )
        )


async def set_item_status(db: Database, item_id: str, status: ItemStatus) -> None:
    async with db.write() as conn:
        await conn.execute(update(batch_items).where(batch_items.c.id == item_id).values(status=status.value))
