"""Request bodies that change agents, memory blocks and tools after they were created."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agentbatch.domain.agents import DEFAULT_BLOCK_LIMIT, Block
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.engine.agent_changes import AgentUpdate, BlockChange
from agentbatch.engine.tool_changes import ToolPatch

_UPDATE_MODELLED = {
    "name",
    "system",
    "description",
    "model",
    "llm_config",
    "embedding",
    "embedding_config",
    "tags",
    "metadata",
    "tool_ids",
    "block_ids",
    "tool_rules",
}


class UpdateAgentIn(BaseModel):
    """Letta's ``UpdateAgent``: a field left out stays as it was."""

    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, min_length=1, max_length=255)
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

    def to_update(self) -> AgentUpdate:
        given = frozenset(self.model_fields_set | set(self.model_extra or {}))
        options = {
            key: value
            for key, value in self.model_dump(mode="json", exclude=_UPDATE_MODELLED).items()
            if key in given and value is not None
        }
        return AgentUpdate(
            given=given,
            name=self.name,
            system=self.system,
            description=self.description,
            model=self.model,
            llm_config=self.llm_config,
            embedding=self.embedding,
            embedding_config=self.embedding_config,
            tags=self.tags,
            metadata=self.metadata,
            tool_ids=self.tool_ids,
            block_ids=self.block_ids,
            tool_rules=self.tool_rules,
            options=options,
        )


class BlockUpdateIn(BaseModel):
    """Letta's ``BlockUpdate``: a field left out stays as it was."""

    model_config = ConfigDict(extra="allow")
    value: str | None = None
    limit: int | None = Field(default=None, ge=1)
    label: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = None
    read_only: bool | None = None
    metadata: dict[str, Any] | None = None

    def to_change(self) -> BlockChange:
        return BlockChange(
            given=frozenset(self.model_fields_set),
            value=self.value,
            limit=self.limit,
            label=self.label,
            description=self.description,
            read_only=self.read_only,
            metadata=self.metadata,
        )


class CreateBlockIn(BaseModel):
    """Letta's ``CreateBlock``: a block of its own, to attach to an agent later."""

    model_config = ConfigDict(extra="allow")
    label: str = Field(min_length=1, max_length=255)
    value: str
    limit: int = Field(default=DEFAULT_BLOCK_LIMIT, ge=1)
    description: str | None = None
    read_only: bool = False
    metadata: dict[str, Any] | None = None

    def to_block(self) -> Block:
        return Block(
            id=new_id(IdPrefix.BLOCK),
            label=self.label,
            value=self.value,
            limit=self.limit,
            description=self.description,
            read_only=self.read_only,
            metadata=self.metadata,
        )


class ResetMessagesIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    add_default_initial_messages: bool = False


class CancelRunsIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    run_ids: list[str] | None = None


class ModifyApprovalIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    requires_approval: bool


class ToolUpdateIn(BaseModel):
    """Letta's ``ToolUpdate``: a field left out stays as it was; a new source means a new schema."""

    model_config = ConfigDict(extra="allow")
    source_code: str | None = Field(default=None, min_length=1)
    source_type: str | None = None
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    description: str | None = None
    tags: list[str] | None = None
    return_char_limit: int | None = Field(default=None, ge=1)
    metadata_: dict[str, Any] | None = None

    def to_patch(self) -> ToolPatch:
        return ToolPatch(
            given=frozenset(self.model_fields_set),
            source_code=self.source_code,
            source_type=self.source_type,
            json_schema=self.json_schema,
            args_json_schema=self.args_json_schema,
            description=self.description,
            tags=self.tags,
            return_char_limit=self.return_char_limit,
            metadata=self.metadata_,
        )
