"""``POST /v1/agents/`` and ``POST /v1/tools/``."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentbatch.api.schemas.llm_config import INT32_MAX, LlmConfigIn
from agentbatch.domain.agents import AgentType, Tool, ToolType
from agentbatch.engine.agent_commands import NewAgent, NewBlock

_MODELLED = {
    "name",
    "agent_type",
    "system",
    "description",
    "model",
    "llm_config",
    "embedding",
    "embedding_config",
    "memory_blocks",
    "tools",
    "tool_ids",
    "include_base_tools",
    "tags",
    "metadata",
    "tool_rules",
}


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    label: str = Field(min_length=1, max_length=255)
    value: str
    limit: int | None = Field(default=None, ge=1, le=INT32_MAX)
    description: str | None = None
    read_only: bool = False
    metadata: dict[str, Any] | None = None


class CreateAgentIn(BaseModel):
    """Letta's ``CreateAgent``; fields this server does not model are kept in the agent's options."""

    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    agent_type: AgentType = AgentType.LETTA_V1
    system: str | None = None
    description: str | None = None
    model: str | None = Field(default=None, max_length=255)
    llm_config: LlmConfigIn | None = None
    embedding: str | None = Field(default=None, max_length=255)
    embedding_config: dict[str, Any] | None = None
    memory_blocks: list[BlockIn] | None = None
    tools: list[str] | None = None
    tool_ids: list[str] | None = None
    include_base_tools: bool = True
    tags: list[Annotated[str, Field(max_length=255)]] | None = None
    metadata: dict[str, Any] | None = None
    tool_rules: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _names_a_model(self) -> "CreateAgentIn":
        if self.model is None and self.llm_config is not None and self.llm_config.model is None:
            raise ValueError("give `model` (a handle such as 'openai/gpt-4o-mini') or `llm_config.model`")
        return self

    def to_new_agent(self) -> NewAgent:
        options = self.model_dump(mode="json", exclude=_MODELLED, exclude_none=True)
        return NewAgent(
            name=self.name,
            agent_type=self.agent_type,
            system=self.system,
            description=self.description,
            model=self.model,
            llm_config=self.llm_config.given() if self.llm_config is not None else None,
            embedding=self.embedding,
            embedding_config=self.embedding_config,
            memory_blocks=[
                NewBlock(
                    label=block.label,
                    value=block.value,
                    limit=block.limit,
                    description=block.description,
                    read_only=block.read_only,
                    metadata=block.metadata,
                )
                for block in self.memory_blocks or []
            ],
            tools=self.tools or [],
            tool_ids=self.tool_ids or [],
            include_base_tools=self.include_base_tools,
            tags=self.tags or [],
            metadata=self.metadata,
            tool_rules=self.tool_rules,
            options=options,
        )


class CreateToolIn(BaseModel):
    """Letta's ``ToolCreate``: Python source plus, optionally, its JSON schema."""

    model_config = ConfigDict(extra="allow")
    source_code: str = Field(min_length=1)
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = Field(
        default=None, description="The parameters' schema alone; the name comes from the source."
    )
    description: str | None = None
    tags: list[str] | None = None
    source_type: str = Field(default="python", max_length=32)
    return_char_limit: int = Field(default=50_000, ge=1, le=INT32_MAX)
    metadata_: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _storable_name(self) -> "CreateToolIn":
        name = (self.json_schema or {}).get("name")
        if name is not None and not (isinstance(name, str) and 0 < len(name) <= 255):
            raise ValueError("json_schema.name must be a string of 1 to 255 characters")
        if not isinstance((self.json_schema or {}).get("description", ""), str):
            raise ValueError("json_schema.description must be a string")
        return self

    def to_tool(self) -> Tool:
        """The tool as given; the engine fills in the name and, if absent, the schema from the source."""
        return Tool(
            id="",
            name="",
            tool_type=ToolType.CUSTOM,
            json_schema=self.json_schema or {},
            args_schema=self.args_json_schema,
            description=self.description,
            source_code=self.source_code,
            source_type=self.source_type,
            tags=self.tags or [],
            return_char_limit=self.return_char_limit,
            metadata=self.metadata_,
        )
