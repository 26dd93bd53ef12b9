"""Changing an agent after it was created: its fields, tools, memory blocks, history and current turn.

A turn works on the agent as it was loaded when the turn was claimed, so a change made while a turn
runs applies from the agent's **next turn**, and never reaches into the running one. Memory block
values are the exception that needs care: the API's change is written at once and the running turn's
own edits are merged into it when they are committed (``store.blocks.save_turn_edits``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentbatch.domain.agents import Agent, Block
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.domain.states import ItemStatus, StopReason
from agentbatch.engine import batch_events
from agentbatch.engine.signals import EngineSignals
from agentbatch.runtime.tools.tool_rules import parse_rules
from agentbatch.store import agent_runs
from agentbatch.store import agents as agent_store
from agentbatch.store import blocks as block_store
from agentbatch.store import tools as tool_store
from agentbatch.store.batch_reports import batches_ended_at
from agentbatch.store.database import Connection, Database

ModelResolver = Callable[[str | None, dict[str, Any] | None], tuple[str, dict[str, Any]]]


@dataclass(slots=True)
class AgentUpdate:
    """Letta's ``UpdateAgent``: only the fields named in ``given`` change."""

    given: frozenset[str]
    name: str | None = None
    system: str | None = None
    description: str | None = None
    model: str | None = None
    llm_config: dict[str, Any] | None = None
    embedding: str | None = None
    embedding_config: dict[str, Any] | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None
    tool_ids: list[str] | None = None
    block_ids: list[str] | None = None
    tool_rules: list[dict[str, Any]] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """Further fields (timezone, message_buffer_autoclear, …), kept with the agent as given."""


@dataclass(slots=True)
class BlockChange:
    """Letta's ``BlockUpdate``: only the fields named in ``given`` change."""

    given: frozenset[str]
    value: str | None = None
    limit: int | None = None
    label: str | None = None
    description: str | None = None
    read_only: bool | None = None
    metadata: dict[str, Any] | None = None


_PLAIN_COLUMNS = ("system", "description", "embedding", "embedding_config", "tool_rules")


class AgentChanges:
    def __init__(self, db: Database, resolve_model: ModelResolver, signals: EngineSignals | None) -> None:
        self._db = db
        self._resolve_model = resolve_model
        self._signals = signals

    async def update(self, owner_id: str, agent_id: str, change: AgentUpdate) -> Agent:
        if "tool_rules" in change.given and change.tool_rules:
            check_tool_rules(change.tool_rules)
        now = datetime.now(UTC)
        async with self._db.write() as conn:
            agent = await _agent(conn, owner_id, agent_id)
            values: dict[str, Any] = {
                col: getattr(change, col) for col in _PLAIN_COLUMNS if col in change.given
            }
            if "system" in values and values["system"] is None:
                del values["system"]
            if change.name is not None:
                values["name"] = change.name
            if "metadata" in change.given:
                values["metadata_json"] = change.metadata
            if {"model", "llm_config"} & change.given and (change.model or change.llm_config):
                values["model"], values["llm_config"] = self._resolve_model(
                    change.model,
                    {**agent.llm_config, **(change.llm_config or {})} if change.llm_config else None,
                )
            if change.options:
                values["options"] = {**agent.options, **change.options}
            if change.tags is not None:
                values["tags"] = list(dict.fromkeys(change.tags))
                await agent_store.replace_tags(conn, agent_id, values["tags"])
            if change.tool_ids is not None:
                found = await tool_store.tools_by_id(conn, owner_id, change.tool_ids)
                _all_found("Tool", change.tool_ids, found)
                await agent_store.replace_tools(conn, agent_id, change.tool_ids)
            if change.block_ids is not None:
                await _set_blocks(conn, owner_id, agent, change.block_ids, now)
            await agent_store.update_agent_columns(conn, agent_id, values, now)
            return await _agent(conn, owner_id, agent_id)

    async def attach_tool(self, owner_id: str, agent_id: str, tool_id: str, attach: bool) -> Agent:
        async with self._db.write() as conn:
            await _agent(conn, owner_id, agent_id)
            if tool_id not in await tool_store.tools_by_id(conn, owner_id, [tool_id]):
                raise NotFound(f"Tool {tool_id} not found")
            if attach:
                await agent_store.attach_tool(conn, agent_id, tool_id)
            else:
                await agent_store.detach_tool(conn, agent_id, tool_id)
            await agent_store.update_agent_columns(conn, agent_id, {}, datetime.now(UTC))
            return await _agent(conn, owner_id, agent_id)

    async def set_approval(self, owner_id: str, agent_id: str, tool_name: str, required: bool) -> Agent:
        """Letta keeps "this tool needs approval" as a ``requires_approval`` tool rule; so does this."""
        async with self._db.write() as conn:
            agent = await _agent(conn, owner_id, agent_id)
            if tool_name not in {tool.name for tool in agent.tools}:
                raise NotFound(f"Tool {tool_name!r} is not attached to agent {agent_id}")
            rules = [
                rule
                for rule in agent.tool_rules or []
                if not (rule.get("type") == "requires_approval" and rule.get("tool_name") == tool_name)
            ]
            if required:
                rules.append({"type": "requires_approval", "tool_name": tool_name, "prompt_template": None})
            await agent_store.update_agent_columns(conn, agent_id, {"tool_rules": rules}, datetime.now(UTC))
            return await _agent(conn, owner_id, agent_id)

    async def reset_messages(self, owner_id: str, agent_id: str) -> Agent:
        async with self._db.write() as conn:
            await _agent(conn, owner_id, agent_id)
            await agent_runs.reset_history(conn, agent_id)
            await agent_store.update_agent_columns(conn, agent_id, {}, datetime.now(UTC))
            return await _agent(conn, owner_id, agent_id)

    async def cancel_turn(self, owner_id: str, agent_id: str, run_ids: list[str] | None) -> list[str]:
        """Cancel the agent's current turn (or the named ones); the engine's running task is stopped
        here at once, and in other processes when their lease renewal finds the item taken away."""
        now = datetime.now(UTC)
        async with self._db.write() as conn:
            await _agent(conn, owner_id, agent_id)
            cancelled = await agent_runs.cancel_current_turns(conn, agent_id, run_ids, now)
            ended = await batches_ended_at(conn, [batch_id for _, batch_id in cancelled if batch_id], now)
        batch_events.items_ended_by_batch(ItemStatus.CANCELLED, StopReason.CANCELLED, len(cancelled))
        for batch in ended:
            batch_events.batch_ended(batch)
        if self._signals is not None:
            for item_id, _ in cancelled:
                self._signals.notify_cancel(item_id)
        return [item_id for item_id, _ in cancelled]

    # --- memory blocks -------------------------------------------------------------------------

    async def update_agent_block(
        self, owner_id: str, agent_id: str, label: str, change: BlockChange
    ) -> Block:
        async with self._db.write() as conn:
            await _agent(conn, owner_id, agent_id)
            stored = await block_store.agent_block(conn, agent_id, label)
            if stored is None:
                raise NotFound(f"Agent {agent_id} has no memory block labelled {label!r}")
            return await _change_block(conn, stored.block, stored.agent_ids, change)

    async def update_block(self, owner_id: str, block_id: str, change: BlockChange) -> Block:
        async with self._db.write() as conn:
            stored = await block_store.get_block(conn, owner_id, block_id)
            if stored is None:
                raise NotFound(f"Block {block_id} not found")
            return await _change_block(conn, stored.block, stored.agent_ids, change)

    async def attach_block(self, owner_id: str, agent_id: str, block_id: str, attach: bool) -> Agent:
        now = datetime.now(UTC)
        async with self._db.write() as conn:
            agent = await _agent(conn, owner_id, agent_id)
            stored = await block_store.get_block(conn, owner_id, block_id)
            if stored is None:
                raise NotFound(f"Block {block_id} not found")
            if attach and agent_id not in stored.agent_ids:
                labels = {existing.label for existing in agent.blocks}
                _check_attachable(agent_id, labels, stored.block)
                await block_store.attach_block(conn, block_id, agent_id, now)
            elif not attach and agent_id in stored.agent_ids:
                await block_store.detach_block(conn, block_id, agent_id, now)
            elif not attach:
                raise NotFound(f"Block {block_id} is not attached to agent {agent_id}")
            await agent_store.update_agent_columns(conn, agent_id, {}, now)
            return await _agent(conn, owner_id, agent_id)

    async def create_block(self, owner_id: str, block: Block) -> Block:
        _check_value(block.label, block.value, block.limit)
        async with self._db.write() as conn:
            await block_store.insert_block(conn, owner_id, block, datetime.now(UTC))
        return block

    async def delete_block(self, owner_id: str, block_id: str) -> None:
        async with self._db.write() as conn:
            if await block_store.get_block(conn, owner_id, block_id) is None:
                raise NotFound(f"Block {block_id} not found")
            await block_store.delete_block(conn, block_id)


async def _agent(conn: Connection, owner_id: str, agent_id: str) -> Agent:
    agent = await agent_store.get_agent(conn, owner_id, agent_id)
    if agent is None:
        raise NotFound(f"Agent {agent_id} not found")
    return agent


def _all_found(kind: str, wanted: list[str], found: dict[str, Any]) -> None:
    missing = [item for item in wanted if item not in found]
    if missing:
        raise NotFound(f"{kind}(s) not found: {', '.join(missing)}")


def check_tool_rules(rules: list[dict[str, Any]]) -> None:
    try:
        parse_rules(rules)
    except ValueError as error:
        raise InvalidRequest(f"tool_rules: {error}") from error


def _check_value(label: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidRequest(
            f"memory block {label!r} would hold {len(value)} characters, over its limit of {limit}"
        )


def _check_attachable(agent_id: str, labels: set[str], block: Block) -> None:
    if block.label in labels:
        raise InvalidRequest(f"agent {agent_id} already has a memory block labelled {block.label!r}")


async def _set_blocks(
    conn: Connection, owner_id: str, agent: Agent, block_ids: list[str], now: datetime
) -> None:
    wanted = list(dict.fromkeys(block_ids))
    current = {block.id for block in agent.blocks}
    for block_id in current - set(wanted):
        await block_store.detach_block(conn, block_id, agent.id, now)
    labels = {block.label for block in agent.blocks if block.id in wanted}
    for block_id in wanted:
        if block_id in current:
            continue
        stored = await block_store.get_block(conn, owner_id, block_id)
        if stored is None:
            raise NotFound(f"Block {block_id} not found")
        _check_attachable(agent.id, labels, stored.block)
        await block_store.attach_block(conn, block_id, agent.id, now)
        labels.add(stored.block.label)


async def _change_block(conn: Connection, block: Block, agent_ids: list[str], change: BlockChange) -> Block:
    values: dict[str, Any] = {}
    for name in ("value", "limit", "label", "read_only"):
        if name in change.given and getattr(change, name) is not None:
            values[name] = getattr(change, name)
    if "description" in change.given:
        values["description"] = change.description
    if "metadata" in change.given:
        values["metadata_json"] = change.metadata
    label = values.get("label", block.label)
    _check_value(label, values.get("value", block.value), values.get("limit", block.limit))
    if label != block.label:
        for agent_id in agent_ids:  # every agent sharing the block must be free of the new label
            if await block_store.agent_block(conn, agent_id, label) is not None:
                raise InvalidRequest(f"agent {agent_id} already has a memory block labelled {label!r}")
    await block_store.update_block(conn, block.id, values, datetime.now(UTC))
    for name, value in values.items():
        setattr(block, "metadata" if name == "metadata_json" else name, value)
    return block
