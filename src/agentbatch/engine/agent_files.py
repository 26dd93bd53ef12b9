"""Exporting an agent as a Letta agent file, and importing one (ours or Letta's) in one transaction.

Imported: memory blocks, custom tools (with their source; upserted by name), the built-in tools this
server has (others are reported and left out), tool rules, llm config, tags, metadata and the message
history, so the agent's next turn continues from it. What cannot be carried over is reported in the
answer's ``warnings``; nothing is half-written.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agentbatch.domain.agents import DEFAULT_BLOCK_LIMIT, Agent, AgentType, Block, Tool, ToolType
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.engine.agent_changes import ModelResolver, check_tool_rules
from agentbatch.engine.agent_file_format import AGENT_FIELDS_KEPT, ImportReport, export_file, read_messages
from agentbatch.store import agents as agent_store
from agentbatch.store import messages as message_store
from agentbatch.store import tools as tool_store
from agentbatch.store.database import Connection, Database

_AGENT_MODELLED = {
    "id", "name", "agent_type", "system", "description", "metadata", "llm_config", "embedding_config",
    "model", "embedding", "tags", "tool_rules", "tool_ids", "block_ids", "messages", "in_context_message_ids",
    "memory_blocks", "tools", "source_ids", "folder_ids", "files_agents", "group_ids", "include_base_tools",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImportOptions:
    name: str | None = None
    model: str | None = None
    strip_messages: bool = False
    override_existing_tools: bool = True


@dataclass(slots=True)
class ImportResult:
    agent_ids: list[str]
    warnings: list[str]


class AgentFiles:
    def __init__(self, db: Database, resolve_model: ModelResolver) -> None:
        self._db = db
        self._resolve_model = resolve_model

    async def export(self, owner_id: str, agent_id: str) -> dict[str, Any]:
        async with self._db.read() as conn:
            agent = await agent_store.get_agent(conn, owner_id, agent_id)
            if agent is None:
                raise NotFound(f"Agent {agent_id} not found")
            history = (await message_store.histories(conn, [agent_id]))[agent_id]
        return export_file(agent, history)

    async def import_file(self, owner_id: str, data: Any, options: ImportOptions) -> ImportResult:
        agents, blocks, tools = _entities(data)
        report = ImportReport()
        for key in ("groups", "files", "sources", "mcp_servers"):
            if data.get(key):
                report.warnings.append(f"{key}: {len(data[key])} left out (this server has no {key})")
        now = datetime.now(UTC)
        created: list[str] = []
        async with self._db.write() as conn:
            by_file_id = await self._tools(conn, owner_id, tools, options, report, now)
            imported_blocks: dict[str, Block] = {}
            for index, raw in enumerate(agents):
                agent = self._agent(owner_id, raw, index, options, now)
                agent.blocks = _blocks(raw, blocks, imported_blocks, index)
                agent.tools = _agent_tools(raw, by_file_id, index, report)
                await agent_store.insert_agent(conn, agent)
                if not options.strip_messages:
                    history = read_messages(
                        list(raw.get("messages") or ()), agent.id, lambda: new_id(IdPrefix.MESSAGE), report
                    )
                    await message_store.insert_messages(conn, owner_id, history)
                created.append(agent.id)
        return ImportResult(created, report.warnings)

    def _agent(
        self, owner_id: str, raw: dict[str, Any], index: int, options: ImportOptions, now: datetime
    ) -> Agent:
        where = f"agents[{index}]"
        try:
            agent_type = AgentType(raw.get("agent_type") or AgentType.LETTA_V1.value)
        except ValueError as error:
            raise InvalidRequest(f"{where}.agent_type {raw.get('agent_type')!r} is not known here") from error
        llm_config = raw.get("llm_config") if isinstance(raw.get("llm_config"), dict) else None
        model = options.model or raw.get("model")
        try:
            handle, config = self._resolve_model(model, None if options.model else llm_config)
        except InvalidRequest as error:
            raise InvalidRequest(f"{where}: {error.detail} (give another `model` with the import)") from error
        rules = list(raw.get("tool_rules") or [])
        if rules:
            try:
                check_tool_rules(rules)
            except InvalidRequest as error:
                raise InvalidRequest(f"{where}.{error.detail}") from error
        extra = {key: value for key, value in raw.items() if key not in _AGENT_MODELLED and value is not None}
        return Agent(
            id=new_id(IdPrefix.AGENT),
            owner_id=owner_id,
            name=options.name or str(raw.get("name") or f"imported-{index}"),
            agent_type=agent_type,
            system=str(raw.get("system") or ""),
            description=raw.get("description"),
            model=handle,
            llm_config=config,
            embedding=raw.get("embedding"),
            embedding_config=raw.get("embedding_config"),
            tags=list(dict.fromkeys(raw.get("tags") or [])),
            metadata=raw.get("metadata"),
            tool_rules=rules or None,
            options={key: extra[key] for key in extra if key in AGENT_FIELDS_KEPT} | {"imported": extra},
            created_at=now,
            updated_at=now,
        )

    async def _tools(
        self,
        conn: Connection,
        owner_id: str,
        tools: list[dict[str, Any]],
        options: ImportOptions,
        report: ImportReport,
        now: datetime,
    ) -> dict[str, Tool]:
        """The file's tools as tools here, by file id: custom tools upserted by name, built-ins matched."""
        names = [str(raw.get("name") or "") for raw in tools]
        existing = await tool_store.tools_by_name(conn, owner_id, names)
        found: dict[str, Tool] = {}
        for index, raw in enumerate(tools):
            name, file_id = names[index], str(raw.get("id") or f"tool-{index}")
            here = existing.get(name)
            if raw.get("tool_type", "custom") != "custom" or not raw.get("source_code"):
                if here is not None and here.owner_id is None:
                    found[file_id] = here
                else:
                    report.warnings.append(
                        f"tools[{index}]: {name!r} ({raw.get('tool_type')}) is not available here; left out"
                    )
                continue
            if here is not None and here.owner_id is None:
                raise InvalidRequest(f"tools[{index}]: {name!r} is the name of a built-in tool here")
            tool = _custom_tool(raw, index)
            if here is None:
                tool.id, tool.owner_id, tool.created_at, tool.updated_at = (
                    new_id(IdPrefix.TOOL),
                    owner_id,
                    now,
                    now,
                )
                await tool_store.insert_tool(conn, tool, now)
            elif options.override_existing_tools:
                tool.id, tool.owner_id, tool.created_at, tool.updated_at = (
                    here.id,
                    owner_id,
                    here.created_at,
                    now,
                )
                await tool_store.replace_tool(conn, tool, now)
            else:
                tool = here
            found[file_id] = tool
        return found


def _entities(data: Any) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    if not isinstance(data, dict):
        raise InvalidRequest("the agent file must be a JSON object")
    if "agents" not in data:
        if "core_memory" in data or "in_context_message_indices" in data:
            raise InvalidRequest(
                "this is Letta's legacy single-agent file format; export the agent again from a Letta "
                "server that writes the AgentFileSchema (agents, blocks, tools, … lists)"
            )
        raise InvalidRequest("not an agent file: no `agents` list")
    lists = {key: data.get(key) or [] for key in ("agents", "blocks", "tools")}
    for key, value in lists.items():
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise InvalidRequest(f"`{key}` must be a list of objects")
    if not lists["agents"]:
        raise InvalidRequest("the agent file holds no agent")
    blocks = {str(block.get("id")): block for block in lists["blocks"]}
    return lists["agents"], blocks, lists["tools"]


def _custom_tool(raw: dict[str, Any], index: int) -> Tool:
    schema = raw.get("json_schema") if isinstance(raw.get("json_schema"), dict) else None
    name = str(raw.get("name") or (schema or {}).get("name") or "")
    if not name:
        raise InvalidRequest(f"tools[{index}] has no name")
    if schema is None:
        schema = {
            "name": name,
            "description": raw.get("description") or "",
            "parameters": raw.get("args_json_schema") or {"type": "object", "properties": {}},
        }
    return Tool(
        id="",
        name=name,
        tool_type=ToolType.CUSTOM,
        json_schema=schema,
        description=raw.get("description") or schema.get("description"),
        source_code=str(raw["source_code"]),
        source_type=raw.get("source_type") or "python",
        tags=list(raw.get("tags") or []),
        return_char_limit=int(raw.get("return_char_limit") or 50_000),
        metadata=raw.get("metadata_") if isinstance(raw.get("metadata_"), dict) else None,
    )


def _blocks(
    raw: dict[str, Any], blocks: dict[str, dict[str, Any]], imported: dict[str, Block], index: int
) -> list[Block]:
    """The agent's blocks; a block the file shares between agents is imported once and shared here too
    (``imported``: file id → the block made for it)."""
    found: list[Block] = []
    labels: set[str] = set()
    for file_id in raw.get("block_ids") or []:
        entry = blocks.get(str(file_id))
        if entry is None:
            raise InvalidRequest(f"agents[{index}].block_ids names {file_id!r}, which is not in `blocks`")
        if str(file_id) in imported:
            block = imported[str(file_id)]
            if block.label in labels:
                raise InvalidRequest(
                    f"agents[{index}]: block {file_id!r} has a repeated label {block.label!r}"
                )
            labels.add(block.label)
            found.append(block)
            continue
        label, value = str(entry.get("label") or ""), str(entry.get("value") or "")
        if not label or label in labels:
            raise InvalidRequest(
                f"agents[{index}]: block {file_id!r} has a missing or repeated label {label!r}"
            )
        labels.add(label)
        limit = int(entry.get("limit") or DEFAULT_BLOCK_LIMIT)
        imported[str(file_id)] = Block(
            id=new_id(IdPrefix.BLOCK),
            label=label,
            value=value,
            limit=max(limit, len(value)),
            description=entry.get("description"),
            read_only=bool(entry.get("read_only", False)),
            metadata=entry.get("metadata") or None,
        )
        found.append(imported[str(file_id)])
    return found


def _agent_tools(
    raw: dict[str, Any], by_file_id: dict[str, Tool], index: int, report: ImportReport
) -> list[Tool]:
    chosen: dict[str, Tool] = {}
    for file_id in raw.get("tool_ids") or []:
        tool = by_file_id.get(str(file_id))
        if tool is not None:
            chosen[tool.id] = tool
    return list(chosen.values())
