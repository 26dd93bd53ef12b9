"""Creating and deleting agents and tools: refused with the problem named and nothing written, or
written whole; deleting an agent ends its unfinished work."""

from dataclasses import replace
from typing import Any

import pytest

from agentbatch.domain.agents import AgentType, Tool, ToolType
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.domain.states import BatchStatus
from agentbatch.engine.agent_commands import DEFAULT_SYSTEM, AgentCommands, NewAgent, NewBlock
from agentbatch.engine.batch_commands import BatchCommands
from agentbatch.store import agents as agent_store
from agentbatch.store import batches as batch_store
from agentbatch.store.database import Database
from tests.unit.engine_parts.conftest import MODEL, OWNER, new_agent, rows, turn

GREET_SOURCE = '''def greet(name: str) -> str:
    """Greet someone.

    Args:
        name: who to greet

    Returns:
        str: the greeting
    """
    return "hello " + name
'''


def custom(source: str = GREET_SOURCE, **fields: Any) -> Tool:
    return replace(
        Tool(id="", name="", tool_type=ToolType.CUSTOM, json_schema={}, source_code=source), **fields
    )


async def agents_stored(db: Database) -> tuple[int, int, int]:
    return (await rows(db, "agents"), await rows(db, "blocks"), await rows(db, "agent_tools"))


@pytest.mark.parametrize(
    ("spec", "error", "problem"),
    [
        (NewAgent(name="a"), InvalidRequest, r"an agent needs a model: give `model`"),
        (NewAgent(model="gpt-4o-mini"), InvalidRequest, r"must look like 'provider/model'"),
        (NewAgent(model="nowhere/x"), InvalidRequest, r"nowhere"),
        (
            NewAgent(
                model=MODEL, memory_blocks=[NewBlock("human", "a"), NewBlock("human", "b"), NewBlock("p", "")]
            ),
            InvalidRequest,
            r"memory block labels must be unique; repeated: human",
        ),
        (
            NewAgent(model=MODEL, memory_blocks=[NewBlock("human", "x" * 11, limit=10)]),
            InvalidRequest,
            r"memory block 'human' holds 11 characters, over its limit of 10",
        ),
        (NewAgent(model=MODEL, tools=["no_such_tool", "nor_this"]), NotFound, r"no_such_tool, nor_this"),
        (NewAgent(model=MODEL, tool_ids=["tool-missing"]), NotFound, r"Tool\(s\) not found: tool-missing"),
        (
            NewAgent(model=MODEL, tool_rules=[{"type": "child", "tool_name": "x"}]),
            InvalidRequest,
            r"^tool_rules: ",
        ),
    ],
)
async def test_a_bad_agent_is_refused_naming_the_problem_and_nothing_is_written(
    agents: AgentCommands, db: Database, spec: NewAgent, error: type[Exception], problem: str
) -> None:
    before = await agents_stored(db)

    with pytest.raises(error, match=problem):
        await agents.create_agent(OWNER, spec)
    assert await agents_stored(db) == before


@pytest.mark.parametrize(
    ("agent_type", "replies_by_tool"), [(AgentType.LETTA_V1, False), (AgentType.MEMGPT, True)]
)
async def test_a_new_agent_gets_its_types_system_prompt_and_base_tools(
    agents: AgentCommands, agent_type: AgentType, replies_by_tool: bool
) -> None:
    agent = await agents.create_agent(OWNER, NewAgent(model=MODEL, agent_type=agent_type))

    names = {tool.name for tool in agent.tools}
    assert ("send_message" in names) is replies_by_tool
    assert "conversation_search" in names
    expected = DEFAULT_SYSTEM[AgentType.MEMGPT if replies_by_tool else AgentType.LETTA_V1]
    assert agent.system == expected
    assert agent.name.count("-") == 2  # a readable generated name, e.g. calm-otter-1a2b


async def test_a_new_agent_without_base_tools_has_only_what_it_asked_for(
    agents: AgentCommands, db: Database
) -> None:
    greet = await agents.create_tool(OWNER, custom())
    agent = await agents.create_agent(
        OWNER,
        NewAgent(
            model=MODEL, include_base_tools=False, tools=["greet"], tool_ids=[greet.id], tags=["a", "b", "a"]
        ),
    )

    assert [tool.name for tool in agent.tools] == ["greet"]  # named twice, attached once
    assert agent.tags == ["a", "b"]
    assert agent.llm_config["handle"] == MODEL and agent.llm_config["model"] == "gpt-4o-mini"
    async with db.read() as conn:
        stored = await agent_store.get_agent(conn, OWNER, agent.id)
    assert stored is not None and [tool.id for tool in stored.tools] == [greet.id]


async def test_an_agent_can_be_described_by_llm_config_alone(agents: AgentCommands) -> None:
    agent = await agents.create_agent(
        OWNER,
        NewAgent(llm_config={"model": "claude-x", "model_endpoint_type": "anthropic", "temperature": 0.2}),
    )
    assert agent.model == "anthropic/claude-x"
    assert agent.llm_config["temperature"] == 0.2 and agent.llm_config["handle"] == "anthropic/claude-x"


async def test_a_tool_is_registered_with_the_schema_read_from_its_source(agents: AgentCommands) -> None:
    tool = await agents.create_tool(OWNER, custom())

    assert tool.name == "greet" and tool.id.startswith("tool-") and tool.owner_id == OWNER
    assert tool.description is not None and tool.description.startswith("Greet someone")
    assert tool.json_schema["parameters"]["properties"]["name"]["type"] == "string"
    assert tool.json_schema["parameters"]["required"] == ["name"]


@pytest.mark.parametrize(
    ("tool", "problem"),
    [
        (
            custom(json_schema={"name": "wave", "parameters": {}}),
            r"names the tool 'wave' but the source defines 'greet'",
        ),
        (custom(source="x = 1\n"), r"defines no top-level function to use as the tool"),
        (
            custom(source=GREET_SOURCE.replace("greet", "send_message")),
            r"'send_message' is the name of a built-in",
        ),
    ],
)
async def test_a_bad_tool_is_refused_naming_the_problem(
    agents: AgentCommands, db: Database, tool: Tool, problem: str
) -> None:
    before = await rows(db, "tools")
    with pytest.raises(InvalidRequest, match=problem):
        await agents.create_tool(OWNER, tool)
    assert await rows(db, "tools") == before


async def test_a_second_tool_of_the_same_name_is_refused_naming_the_first(
    agents: AgentCommands, db: Database
) -> None:
    first = await agents.create_tool(OWNER, custom())

    with pytest.raises(InvalidRequest, match=rf"a tool named 'greet' already exists \({first.id}\)"):
        await agents.create_tool(OWNER, custom())
    other_owner = await agents.create_tool("user-other", custom())  # names are per owner
    assert other_owner.id != first.id


async def test_deleting_an_agent_cancels_its_unfinished_requests_and_ends_their_batch(
    agents: AgentCommands, batches: BatchCommands, db: Database
) -> None:
    doomed, kept = await new_agent(agents, "doomed"), await new_agent(agents, "kept")
    alone = (await batches.submit(OWNER, [turn(doomed.id), turn(doomed.id)])).batch
    mixed = (await batches.submit(OWNER, [turn(doomed.id), turn(kept.id)])).batch

    await agents.delete_agent(OWNER, doomed.id)

    async with db.read() as conn:
        assert await agent_store.get_agent(conn, OWNER, doomed.id) is None
        ended = await batch_store.get_batch(conn, OWNER, alone.id)
        running = await batch_store.get_batch(conn, OWNER, mixed.id)
    assert ended is not None and ended.status.is_terminal and ended.counts.cancelled == 2
    assert running is not None and not running.status.is_terminal  # the other agent's request still waits
    assert running.counts.cancelled == 1 and running.counts.pending == 1
    assert ended.status is BatchStatus.CANCELLED and ended.stop_reason == "cancelled"


@pytest.mark.parametrize("owner", [OWNER, "user-someone-else"])
async def test_deleting_an_agent_or_tool_the_caller_cannot_see_is_not_found(
    agents: AgentCommands, db: Database, owner: str
) -> None:
    agent = await new_agent(agents)
    tool = await agents.create_tool(OWNER, custom())
    agent_id = agent.id if owner != OWNER else "agent-unknown"
    tool_id = tool.id if owner != OWNER else "tool-unknown"

    with pytest.raises(NotFound, match=agent_id):
        await agents.delete_agent(owner, agent_id)
    with pytest.raises(NotFound, match=tool_id):
        await agents.delete_tool(owner, tool_id)
    assert await rows(db, "agents") == 1 and await rows(db, "tools") > 1
