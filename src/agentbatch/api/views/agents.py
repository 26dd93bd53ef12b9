"""Agents and tools as Letta's ``AgentState`` and ``Tool``."""

from datetime import datetime
from typing import Any

from agentbatch.domain.agents import Agent, Block, Tool


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def tool_view(tool: Tool) -> dict[str, Any]:
    return {
        "id": tool.id,
        "name": tool.name,
        "description": tool.description,
        "tool_type": tool.tool_type.value,
        "json_schema": tool.json_schema,
        "args_json_schema": tool.json_schema.get("parameters"),
        "source_code": tool.source_code,
        "source_type": tool.source_type,
        "tags": tool.tags,
        "return_char_limit": tool.return_char_limit,
        "created_by_id": tool.owner_id,
        "last_updated_by_id": tool.owner_id,
        "metadata_": tool.metadata or {},
        "pip_requirements": None,
        "npm_requirements": None,
        "default_requires_approval": None,
        "enable_parallel_execution": False,
        "project_id": None,
    }


def block_view(block: Block) -> dict[str, Any]:
    return {
        "id": block.id,
        "label": block.label,
        "value": block.value,
        "limit": block.limit,
        "description": block.description,
        "read_only": block.read_only,
        "metadata": block.metadata or {},
        "is_template": False,
        "hidden": None,
    }


def model_settings(llm_config: dict[str, Any]) -> dict[str, Any]:
    """Letta's ``model_settings`` for the agent's model: what its llm_config says, in that shape."""
    anthropic = llm_config.get("model_endpoint_type") == "anthropic"
    temperature = llm_config.get("temperature")
    return {
        "provider_type": "anthropic" if anthropic else "openai",
        "max_output_tokens": llm_config.get("max_tokens") or 4096,
        "parallel_tool_calls": bool(llm_config.get("parallel_tool_calls", False)),
        "temperature": temperature if temperature is not None else (1.0 if anthropic else 0.7),
        "response_format": None,
    }


def agent_view(
    agent: Agent, message_ids: list[str] | None = None, pending_approval: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``message_ids`` None: not loaded (a new agent has none)."""
    blocks = [block_view(block) for block in agent.blocks]
    return {
        "id": agent.id,
        "name": agent.name,
        "agent_type": agent.agent_type.value,
        "system": agent.system,
        "description": agent.description,
        "model": agent.model,
        "embedding": agent.embedding,
        "llm_config": agent.llm_config,
        "embedding_config": agent.embedding_config,
        "tags": agent.tags,
        "metadata": agent.metadata,
        "tools": [tool_view(tool) for tool in agent.tools],
        "tool_rules": agent.tool_rules or [],
        "sources": [],
        "blocks": blocks,
        "memory": {"agent_type": agent.agent_type.value, "blocks": blocks, "file_blocks": []},
        "identities": [],
        "last_stop_reason": agent.last_stop_reason,
        "last_run_completion": _iso(agent.last_run_completion),
        "created_by_id": agent.owner_id,
        "last_updated_by_id": agent.owner_id,
        "created_at": _iso(agent.created_at),
        "updated_at": _iso(agent.updated_at),
        "project_id": None,
        "timezone": agent.options.get("timezone"),
        "message_buffer_autoclear": bool(agent.options.get("message_buffer_autoclear", False)),
        "model_settings": model_settings(agent.llm_config),
        "message_ids": message_ids if message_ids is not None else [],
        "pending_approval": pending_approval,
        "identity_ids": [],
        "secrets": [],
        "tool_exec_environment_variables": [],
        "enable_sleeptime": bool(agent.options.get("enable_sleeptime", False)),
        "hidden": agent.options.get("hidden"),
        "response_format": agent.options.get("response_format"),
        "last_run_duration_ms": None,
        "template_id": None,
        "base_template_id": None,
        "deployment_id": None,
        "entity_id": None,
        "managed_group": None,
        "multi_agent_group": None,
        "max_files_open": agent.options.get("max_files_open"),
        "per_file_view_window_char_limit": agent.options.get("per_file_view_window_char_limit"),
    }
