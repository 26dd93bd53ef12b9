"""Domain records as the store hands them to the views: complete, with fixed times, overridable."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from agentbatch.domain.agents import Agent, AgentType, Block, Tool, ToolType
from agentbatch.domain.batches import Batch, BatchItem
from agentbatch.domain.ids import DEFAULT_USER_ID, IdPrefix, new_id
from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn
from agentbatch.domain.states import BatchStatus, ItemStatus

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AGENT_ID = new_id(IdPrefix.AGENT)
BATCH_ID = new_id(IdPrefix.BATCH)


def tool(**changes: Any) -> Tool:
    made = Tool(
        id=new_id(IdPrefix.TOOL),
        name="lookup",
        tool_type=ToolType.CUSTOM,
        json_schema={
            "name": "lookup",
            "description": "Look a word up.",
            "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
        },
        description="Look a word up.",
        source_code="def lookup(word: str) -> str:\n    return word\n",
        source_type="python",
        tags=["words"],
        owner_id=DEFAULT_USER_ID,
        created_at=T0,
        updated_at=T0,
    )
    return replace(made, **changes)


def block(**changes: Any) -> Block:
    return replace(Block(id=new_id(IdPrefix.BLOCK), label="human", value="Ann likes tea."), **changes)


def agent(**changes: Any) -> Agent:
    made = Agent(
        id=AGENT_ID,
        owner_id=DEFAULT_USER_ID,
        name="helper",
        agent_type=AgentType.LETTA_V1,
        system="You help.",
        model="openai/gpt-4o-mini",
        llm_config={
            "model": "gpt-4o-mini",
            "model_endpoint_type": "openai",
            "context_window": 128_000,
            "max_tokens": 1024,
            "temperature": 0.2,
        },
        created_at=T0,
        updated_at=T0,
        tags=["t1"],
        metadata={"team": "a"},
        blocks=[block()],
        tools=[tool()],
    )
    return replace(made, **changes)


def batch(**changes: Any) -> Batch:
    made = Batch(
        id=BATCH_ID,
        owner_id=DEFAULT_USER_ID,
        status=BatchStatus.RUNNING,
        request_count=3,
        created_at=T0,
        updated_at=T0,
        metadata={"run": 1},
    )
    return replace(made, **changes)


def item(**changes: Any) -> BatchItem:
    made = BatchItem(
        id=new_id(IdPrefix.BATCH_ITEM),
        batch_id=BATCH_ID,
        agent_id=AGENT_ID,
        position=0,
        status=ItemStatus.SUCCEEDED,
        step_count=2,
        created_at=T0,
        prompt_tokens=100,
        completion_tokens=20,
        started_at=T0,
        completed_at=T0,
        custom_id="req-1",
        attempts=1,
    )
    return replace(made, **changes)


def message(role: Role, **changes: Any) -> Message:
    made = Message(id=new_id(IdPrefix.MESSAGE), agent_id=AGENT_ID, role=role, created_at=T0)
    return replace(made, **changes)


def said(text: str, **changes: Any) -> Message:
    """An assistant message whose text is ``text``."""
    return message(Role.ASSISTANT, content=[{"type": "text", "text": text}], **changes)


def send_message_call(text: str, call_id: str = "call-1", name: str = "send_message") -> Message:
    """An assistant message that answers through the ``send_message`` tool."""
    arguments = '{"message": "' + text + '"}'
    return message(Role.ASSISTANT, tool_calls=[ToolCall(call_id, name, arguments)])


def tool_result(content: str, call_id: str = "call-1") -> Message:
    return message(
        Role.TOOL,
        tool_call_id=call_id,
        tool_returns=[ToolReturn(call_id, "success", content, stdout=["out"], stderr=[])],
    )
