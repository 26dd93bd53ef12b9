"""Creating and deleting agents and tools: validated, then written in one transaction."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentbatch.domain.agents import DEFAULT_BLOCK_LIMIT, Agent, AgentType, Block, Tool, ToolType
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.states import ItemStatus, StopReason
from agentbatch.engine import batch_events
from agentbatch.engine.agent_changes import AgentChanges, check_tool_rules
from agentbatch.engine.agent_files import AgentFiles
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.tool_changes import ToolChanges, derive_schema
from agentbatch.providers.catalog import ModelHandle, ProviderCatalog
from agentbatch.runtime.tools.base_tools import base_tool_names
from agentbatch.store import agents as agent_store
from agentbatch.store import queue
from agentbatch.store import tools as tool_store
from agentbatch.store.batch_reports import batches_ended_at
from agentbatch.store.database import Connection, Database
from agentbatch.store.steps import complete_finished_batches

DEFAULT_SYSTEM = {
    AgentType.LETTA_V1: (
        "You are a helpful, stateful assistant. Your memory blocks below persist between conversations; "
        "keep them current with your memory tools. Answer the user directly in plain text."
    ),
    AgentType.MEMGPT: (
        "You are a stateful assistant with editable core memory. Think, use your tools, and always "
        "answer the user by calling send_message."
    ),
}


@dataclass(slots=True)
class NewBlock:
    label: str
    value: str
    limit: int | None = None
    description: str | None = None
    read_only: bool = False
    metadata: dict[str, Any] | None = None


@dataclass(slots=True)
class NewAgent:
    name: str | None = None
    agent_type: AgentType = AgentType.LETTA_V1
    system: str | None = None
    description: str | None = None
    model: str | None = None
    llm_config: dict[str, Any] | None = None
    embedding: str | None = None
    embedding_config: dict[str, Any] | None = None
    memory_blocks: list[NewBlock] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    tool_ids: list[str] = field(default_factory=list)
    include_base_tools: bool = True
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    tool_rules: list[dict[str, Any]] | None = None
    options: dict[str, Any] = field(default_factory=dict)


class AgentCommands:
    def __init__(self, db: Database, catalog: ProviderCatalog, signals: EngineSignals | None = None) -> None:
        self._db = db
        self._catalog = catalog
        self.changes = AgentChanges(db, self._model_of, signals)
        self.tools = ToolChanges(db)
        self.files = AgentFiles(db, self._model_of)

    async def create_agent(self, owner_id: str, spec: NewAgent) -> Agent:
        handle, llm_config = self._resolve_model(spec)
        if spec.tool_rules:
            check_tool_rules(spec.tool_rules)
        now = datetime.now(UTC)
        agent = Agent(
            id=new_id(IdPrefix.AGENT),
            owner_id=owner_id,
            name=spec.name or _generated_name(),
            agent_type=spec.agent_type,
            system=spec.system if spec.system is not None else _default_system(spec.agent_type),
            description=spec.description,
            model=str(handle),
            llm_config=llm_config,
            embedding=spec.embedding,
            embedding_config=spec.embedding_config,
            tags=list(dict.fromkeys(spec.tags)),
            metadata=spec.metadata,
            tool_rules=spec.tool_rules,
            options=spec.options,
            blocks=_blocks(spec.memory_blocks),
            created_at=now,
            updated_at=now,
        )
        async with self._db.write() as conn:
            agent.tools = await _resolve_tools(conn, owner_id, spec)
            await agent_store.insert_agent(conn, agent)
        return agent

    async def delete_agent(self, owner_id: str, agent_id: str) -> None:
        """Delete an agent and, in the same transaction, cancel its unfinished work (batch items and
        synchronous sends); a batch left with nothing unfinished ends, and its callback becomes due."""
        now = datetime.now(UTC)
        async with self._db.write() as conn:
            if not await agent_store.lock_agent(conn, owner_id, agent_id):
                raise NotFound(f"Agent {agent_id} not found")
            batch_ids, cancelled = await queue.cancel_items_of_agent(
                conn, agent_id, f"agent {agent_id} was deleted", now
            )
            await agent_store.delete_agent(conn, owner_id, agent_id)
            ended = await batches_ended_at(conn, await complete_finished_batches(conn, batch_ids, now), now)
        batch_events.items_ended_by_batch(ItemStatus.CANCELLED, StopReason.CANCELLED, cancelled)
        for batch in ended:
            batch_events.batch_ended(batch)

    async def create_tool(self, owner_id: str, tool: Tool) -> Tool:
        """Register a custom tool; its schema is read from the source unless one is given."""
        derive_schema(tool)
        now = datetime.now(UTC)
        tool.id, tool.owner_id, tool.created_at, tool.updated_at = new_id(IdPrefix.TOOL), owner_id, now, now
        async with self._db.write() as conn:
            existing = (await tool_store.tools_by_name(conn, owner_id, [tool.name])).get(tool.name)
            if existing is not None:
                if existing.owner_id is not None:
                    raise InvalidRequest(f"a tool named {tool.name!r} already exists ({existing.id})")
                raise InvalidRequest(f"{tool.name!r} is the name of a built-in tool; choose another name")
            await tool_store.insert_tool(conn, tool, now)
        return tool

    async def delete_tool(self, owner_id: str, tool_id: str) -> None:
        async with self._db.write() as conn:
            if not await tool_store.delete_tool(conn, owner_id, tool_id):
                raise NotFound(f"Tool {tool_id} not found")

    def _model_of(self, model: str | None, llm_config: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        handle, config = self._resolve_model(NewAgent(model=model, llm_config=llm_config))
        return str(handle), config

    def _resolve_model(self, spec: NewAgent) -> tuple[ModelHandle, dict[str, Any]]:
        if spec.model is None and spec.llm_config is None:
            raise InvalidRequest(
                "an agent needs a model: give `model` (e.g. 'openai/gpt-4o-mini') or `llm_config`"
            )
        if spec.model is not None:
            handle_text = spec.model
        else:
            assert spec.llm_config is not None
            handle_text = spec.llm_config.get("handle") or (
                f"{spec.llm_config.get('model_endpoint_type')}/{spec.llm_config.get('model')}"
            )
        try:
            handle = self._catalog.parse(handle_text)
        except ValueError as error:
            raise InvalidRequest(str(error)) from error
        endpoint = self._catalog.endpoint(handle.provider)
        assert endpoint is not None
        llm_config: dict[str, Any] = {
            "model": handle.model,
            "model_endpoint_type": endpoint.protocol.value,
            "model_endpoint": endpoint.base_url,
            "context_window": self._catalog.context_window(handle),
            "handle": str(handle),
            **(spec.llm_config or {}),
        }
        return handle, llm_config


def _default_system(agent_type: AgentType) -> str:
    if agent_type.replies_through_send_message:
        return DEFAULT_SYSTEM[AgentType.MEMGPT]
    return DEFAULT_SYSTEM[AgentType.LETTA_V1]


def _blocks(specs: list[NewBlock]) -> list[Block]:
    labels = [spec.label for spec in specs]
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise InvalidRequest(f"memory block labels must be unique; repeated: {', '.join(duplicated)}")
    blocks = []
    for spec in specs:
        limit = spec.limit if spec.limit is not None else max(DEFAULT_BLOCK_LIMIT, len(spec.value))
        if len(spec.value) > limit:
            raise InvalidRequest(
                f"memory block {spec.label!r} holds {len(spec.value)} characters, over its limit of {limit}"
            )
        blocks.append(
            Block(
                id=new_id(IdPrefix.BLOCK),
                label=spec.label,
                value=spec.value,
                limit=limit,
                description=spec.description,
                read_only=spec.read_only,
                metadata=spec.metadata,
            )
        )
    return blocks


async def _resolve_tools(conn: Connection, owner_id: str, spec: NewAgent) -> list[Tool]:
    names = list(
        dict.fromkeys([*(base_tool_names(spec.agent_type) if spec.include_base_tools else []), *spec.tools])
    )
    by_name = await tool_store.tools_by_name(conn, owner_id, names)
    missing = [name for name in names if name not in by_name]
    if missing:
        raise NotFound(f"Tool(s) not found: {', '.join(missing)}")
    by_id = await tool_store.tools_by_id(conn, owner_id, spec.tool_ids)
    missing_ids = [tool_id for tool_id in spec.tool_ids if tool_id not in by_id]
    if missing_ids:
        raise NotFound(f"Tool(s) not found: {', '.join(missing_ids)}")
    chosen = {tool.id: tool for tool in [*(by_name[name] for name in names), *by_id.values()]}
    return [tool for tool in chosen.values() if tool.tool_type is not ToolType.CLIENT]


_ADJECTIVES = ("amber", "brisk", "calm", "deft", "eager", "fond", "glad", "keen", "lucid", "merry")
_NOUNS = ("otter", "heron", "lynx", "wren", "panda", "finch", "ibex", "koala", "marten", "orca")


def _generated_name() -> str:
    token = new_id(IdPrefix.AGENT)[-6:]
    number = int(token, 16)
    return f"{_ADJECTIVES[number % 10]}-{_NOUNS[(number // 10) % 10]}-{token[:4]}"
