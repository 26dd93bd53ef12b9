"""Neutral-history builders and the structural rules each real API enforces on a request body.

The emulator answers any well-formed body; it does not check that tool results answer the tool calls
before them, or that Anthropic's turns alternate. The real APIs reject such bodies with a 400, so the
contract tests check every body the adapters build against these rules as well.
"""

from datetime import UTC, datetime
from typing import Any

from agentbatch.domain.messages import ContentPart, Message, Role, ToolCall, ToolReturn, ToolStatus, text_part
from agentbatch.providers.base import ToolSpec

CREATED = datetime(2025, 1, 1, tzinfo=UTC)

LOOKUP = ToolSpec(
    name="lookup",
    description="Look something up.",
    parameters={
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["query", "limit"],
    },
)
NOTE = ToolSpec(
    name="note",
    description="Write a note down.",
    parameters={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
)
SEND_MESSAGE = ToolSpec(
    name="send_message",
    description="Send a message to the user.",
    parameters={"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
)


def user(text: str, *parts: ContentPart) -> Message:
    return Message(
        id="message-user",
        agent_id="agent-1",
        role=Role.USER,
        created_at=CREATED,
        content=[text_part(text), *parts],
    )


def assistant(*calls: ToolCall, text: str = "") -> Message:
    return Message(
        id="message-assistant",
        agent_id="agent-1",
        role=Role.ASSISTANT,
        created_at=CREATED,
        content=[text_part(text)] if text else [],
        tool_calls=list(calls),
    )


def tool(call: ToolCall, content: str, status: ToolStatus = "success") -> Message:
    ret = ToolReturn(tool_call_id=call.id, status=status, content=content)
    return Message(
        id="message-tool",
        agent_id="agent-1",
        role=Role.TOOL,
        created_at=CREATED,
        content=[text_part(content)],
        tool_call_id=call.id,
        tool_returns=[ret],
        name=call.name,
    )


def openai_violations(body: dict[str, Any]) -> list[str]:
    """What OpenAI's Chat Completions API would refuse in ``body["messages"]`` (empty: nothing)."""
    problems: list[str] = []
    pending: set[str] = set()
    for index, message in enumerate(body["messages"]):
        role = message["role"]
        if pending and role != "tool":
            problems.append(f"messages[{index}] ({role}) comes before tool results for {sorted(pending)}")
            pending = set()
        if role == "tool":
            if message["tool_call_id"] not in pending:
                problems.append(f"messages[{index}] answers no pending tool call: {message['tool_call_id']}")
            pending.discard(message["tool_call_id"])
            if not isinstance(message["content"], str):
                problems.append(f"messages[{index}] tool content is not a string")
        elif role == "assistant":
            calls = message.get("tool_calls") or []
            if message.get("content") is None and not calls:
                problems.append(f"messages[{index}] assistant content is null without tool_calls")
            pending = {call["id"] for call in calls}
        elif not isinstance(message.get("content"), str | list):
            problems.append(f"messages[{index}] ({role}) content is not a string or a list of parts")
    if pending:
        problems.append(f"the history ends before tool results for {sorted(pending)}")
    return problems


def anthropic_violations(body: dict[str, Any]) -> list[str]:
    """What Anthropic's Messages API would refuse in ``body["messages"]`` (empty: nothing)."""
    problems: list[str] = []
    messages = body["messages"]
    if not messages or messages[0]["role"] != "user":
        problems.append("the first message is not a user message")
    asked: set[str] = set()
    for index, message in enumerate(messages):
        role, blocks = message["role"], message["content"]
        if index and messages[index - 1]["role"] == role:
            problems.append(f"messages[{index}] repeats the role {role}")
        problems += [f"messages[{index}] {problem}" for problem in _block_problems(blocks)]
        if role == "user":
            kinds = [block["type"] for block in blocks]
            results = [block["tool_use_id"] for block in blocks if block["type"] == "tool_result"]
            if kinds[: len(results)] != ["tool_result"] * len(results):
                problems.append(f"messages[{index}]: tool_result blocks must come first")
            if set(results) != asked:
                problems.append(f"messages[{index}] answers {sorted(results)} but {sorted(asked)} were asked")
            asked = set()
        else:
            if asked:
                problems.append(f"messages[{index}] follows tool calls {sorted(asked)} that got no result")
            asked = {block["id"] for block in blocks if block["type"] == "tool_use"}
    if asked:
        problems.append(f"the history ends before tool results for {sorted(asked)}")
    return problems


def _block_problems(blocks: list[dict[str, Any]]) -> list[str]:
    problems = [] if blocks else ["has no content"]
    for block in blocks:
        if block["type"] == "text" and not block["text"]:
            problems.append("has an empty text block")
        if block["type"] == "tool_use" and not isinstance(block["input"], dict):
            problems.append("has a tool_use input that is not an object")
    return problems
