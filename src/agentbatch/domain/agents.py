"""Agents, their memory blocks and their tools, as every layer sees them."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AgentType(StrEnum):
    LETTA_V1 = "letta_v1_agent"
    MEMGPT = "memgpt_agent"
    MEMGPT_V2 = "memgpt_v2_agent"
    REACT = "react_agent"
    WORKFLOW = "workflow_agent"
    SPLIT_THREAD = "split_thread_agent"
    SLEEPTIME = "sleeptime_agent"
    VOICE_CONVO = "voice_convo_agent"
    VOICE_SLEEPTIME = "voice_sleeptime_agent"

    @property
    def replies_through_send_message(self) -> bool:
        """The older Letta types answer the user by calling the terminal ``send_message`` tool."""
        return self in (AgentType.MEMGPT, AgentType.MEMGPT_V2)


class ToolType(StrEnum):
    CUSTOM = "custom"
    LETTA_CORE = "letta_core"
    LETTA_MEMORY_CORE = "letta_memory_core"
    CLIENT = "client"


DEFAULT_BLOCK_LIMIT = 20_000
DEFAULT_RETURN_CHAR_LIMIT = 50_000


@dataclass(slots=True)
class Block:
    id: str
    label: str
    value: str
    limit: int = DEFAULT_BLOCK_LIMIT
    description: str | None = None
    read_only: bool = False
    metadata: dict[str, Any] | None = None


@dataclass(slots=True)
class Tool:
    id: str
    name: str
    tool_type: ToolType
    json_schema: dict[str, Any]
    description: str | None = None
    source_code: str | None = None
    source_type: str | None = None
    tags: list[str] = field(default_factory=list)
    return_char_limit: int = DEFAULT_RETURN_CHAR_LIMIT
    owner_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    args_schema: dict[str, Any] | None = None
    """Only on creation: parameters given without a full schema (the rest is read from the source)."""
    metadata: dict[str, Any] | None = None


@dataclass(slots=True)
class Agent:
    id: str
    owner_id: str
    name: str
    agent_type: AgentType
    system: str
    model: str | None
    llm_config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    embedding: str | None = None
    embedding_config: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    tool_rules: list[dict[str, Any]] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    last_stop_reason: str | None = None
    last_run_completion: datetime | None = None
