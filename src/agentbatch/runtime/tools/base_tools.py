"""The base tools every agent gets unless created with ``include_base_tools: false`` (as in Letta).

Their schemas live here; what they do is in ``runtime/tools/memory_tools.py``.
"""

from typing import Any

from agentbatch.domain.agents import AgentType, Tool, ToolType

SEND_MESSAGE = "send_message"
CONVERSATION_SEARCH = "conversation_search"
MEMORY_TOOL_NAMES = ("memory_insert", "memory_replace", "core_memory_append", "core_memory_replace")


def _schema(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


_STRING = {"type": "string"}
_LABEL = {"type": "string", "description": "Label of the memory block to edit."}

_SCHEMAS: dict[str, tuple[ToolType, dict[str, Any]]] = {
    SEND_MESSAGE: (
        ToolType.LETTA_CORE,
        _schema(
            SEND_MESSAGE,
            "Sends a message to the human user.",
            {
                "message": {
                    "type": "string",
                    "description": "Message contents. All unicode (including emojis) are supported.",
                }
            },
            ["message"],
        ),
    ),
    CONVERSATION_SEARCH: (
        ToolType.LETTA_CORE,
        _schema(
            CONVERSATION_SEARCH,
            "Search prior conversation history for messages containing the query (case-insensitive).",
            {
                "query": {"type": "string", "description": "Text to search for."},
                "limit": {"type": "integer", "description": "Maximum number of results (default 10)."},
            },
            ["query"],
        ),
    ),
    "memory_insert": (
        ToolType.LETTA_MEMORY_CORE,
        _schema(
            "memory_insert",
            "Insert text at a given line of a memory block (-1 appends at the end).",
            {
                "label": _LABEL,
                "new_string": {"type": "string", "description": "The text to insert."},
                "insert_line": {
                    "type": "integer",
                    "description": "Line number to insert after; -1 for the end.",
                },
            },
            ["label", "new_string"],
        ),
    ),
    "memory_replace": (
        ToolType.LETTA_MEMORY_CORE,
        _schema(
            "memory_replace",
            "Replace an exact, unique occurrence of old_string in a memory block with new_string.",
            {"label": _LABEL, "old_string": _STRING, "new_string": _STRING},
            ["label", "old_string", "new_string"],
        ),
    ),
    "core_memory_append": (
        ToolType.LETTA_MEMORY_CORE,
        _schema(
            "core_memory_append",
            "Append to the contents of a core memory block.",
            {"label": _LABEL, "content": {"type": "string", "description": "Content to append."}},
            ["label", "content"],
        ),
    ),
    "core_memory_replace": (
        ToolType.LETTA_MEMORY_CORE,
        _schema(
            "core_memory_replace",
            "Replace the contents of a core memory block; old_content must match exactly.",
            {"label": _LABEL, "old_content": _STRING, "new_content": _STRING},
            ["label", "old_content", "new_content"],
        ),
    ),
}


def builtin_tools() -> list[Tool]:
    """Every built-in tool, as rows to keep in the store (ids are assigned there)."""
    return [
        Tool(
            id="",
            name=name,
            tool_type=tool_type,
            json_schema=schema,
            description=schema["description"],
            source_type="python",
            tags=["letta_core"] if tool_type is ToolType.LETTA_CORE else ["letta_memory_core"],
        )
        for name, (tool_type, schema) in _SCHEMAS.items()
    ]


def base_tool_names(agent_type: AgentType) -> list[str]:
    names = [CONVERSATION_SEARCH, *MEMORY_TOOL_NAMES]
    if agent_type.replies_through_send_message:
        names.insert(0, SEND_MESSAGE)
    return names
