"""Agent files (Letta's ``.af``): an export imports back as the same agent, Letta's own files import
with what cannot come along reported, and a bad file is refused naming the problem, writing nothing."""

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentbatch.domain.agents import Agent, Tool, ToolType
from agentbatch.domain.errors import InvalidRequest
from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn, text_part
from agentbatch.engine.agent_commands import AgentCommands
from agentbatch.engine.agent_files import ImportOptions
from agentbatch.store import agents as agent_store
from agentbatch.store import messages as message_store
from agentbatch.store import tools as tool_store
from agentbatch.store.database import Database
from tests.unit.engine_parts.conftest import MODEL, OWNER, new_agent, rows

DATA = Path(__file__).parents[2] / "data" / "agent_files"
OTHER_OWNER = "user-00000000-0000-4000-8000-000000000002"
NOTE_SOURCE = '''def note(text: str) -> str:
    """Keep a note.

    Args:
        text: what to keep

    Returns:
        str: the note kept
    """
    return text
'''


async def agent_with_history(agents: AgentCommands, db: Database) -> Agent:
    """An agent with a custom tool, a tool rule, a kept option and a conversation with a tool call."""
    tool = await agents.create_tool(
        OWNER, Tool(id="", name="", tool_type=ToolType.CUSTOM, json_schema={}, source_code=NOTE_SOURCE)
    )
    agent = await new_agent(
        agents,
        name="archivist",
        tool_ids=[tool.id],
        tags=["team:a", "prod"],
        metadata={"owner": "ops"},
        tool_rules=[{"type": "max_count_per_step", "tool_name": "note", "max_count_limit": 2}],
        options={"timezone": "Europe/Paris"},
    )
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    history = [
        Message("message-a", agent.id, Role.USER, start, [text_part("remember milk")]),
        Message(
            "message-b",
            agent.id,
            Role.ASSISTANT,
            start + timedelta(seconds=1),
            tool_calls=[ToolCall("call-1", "note", '{"text": "milk"}')],
        ),
        Message(
            "message-c",
            agent.id,
            Role.TOOL,
            start + timedelta(seconds=2),
            [text_part("milk")],
            tool_call_id="call-1",
            tool_returns=[ToolReturn("call-1", "success", "milk", stdout=["kept"])],
        ),
    ]
    async with db.write() as conn:
        await message_store.insert_messages(conn, OWNER, history)
    return agent


async def history_of(db: Database, agent_id: str) -> list[Message]:
    async with db.read() as conn:
        return (await message_store.histories(conn, [agent_id]))[agent_id]


async def stored(db: Database) -> dict[str, int]:
    return {table: await rows(db, table) for table in ("agents", "tools", "blocks", "messages")}


async def test_an_exported_agent_imports_back_as_the_same_agent_for_another_owner(
    agents: AgentCommands, db: Database
) -> None:
    original = await agent_with_history(agents, db)
    exported = json.loads(json.dumps(await agents.files.export(OWNER, original.id)))  # as sent over HTTP

    result = await agents.files.import_file(OTHER_OWNER, exported, ImportOptions())

    assert result.warnings == []
    [copy_id] = result.agent_ids
    async with db.read() as conn:
        imported = await agent_store.get_agent(conn, OTHER_OWNER, copy_id)
    assert imported is not None and imported.id != original.id
    assert (imported.name, imported.system, imported.model) == (original.name, original.system, MODEL)
    assert imported.tags == original.tags and imported.metadata == original.metadata
    assert imported.tool_rules == original.tool_rules
    assert imported.options["timezone"] == "Europe/Paris"
    assert [(b.label, b.value, b.limit) for b in imported.blocks] == [
        (b.label, b.value, b.limit) for b in original.blocks
    ]
    assert {b.id for b in imported.blocks}.isdisjoint({b.id for b in original.blocks})  # copies, not shared
    assert {t.name for t in imported.tools} == {t.name for t in original.tools}
    [note] = [t for t in imported.tools if t.name == "note"]
    assert note.owner_id == OTHER_OWNER and note.source_code == NOTE_SOURCE  # the custom tool came along

    before, after = await history_of(db, original.id), await history_of(db, copy_id)
    assert [(m.role, m.text, m.created_at) for m in after] == [(m.role, m.text, m.created_at) for m in before]
    assert after[1].tool_calls == before[1].tool_calls
    assert after[2].tool_returns == before[2].tool_returns and after[2].tool_call_id == "call-1"


async def test_an_export_names_entities_by_file_ids_and_keeps_nothing_of_this_server(
    agents: AgentCommands, db: Database
) -> None:
    agent = await agent_with_history(agents, db)
    exported = await agents.files.export(OWNER, agent.id)

    [entry] = exported["agents"]
    assert entry["id"] == "agent-0"
    assert entry["block_ids"] == [block["id"] for block in exported["blocks"]] == ["block-0"]
    assert entry["tool_ids"] == [tool["id"] for tool in exported["tools"]]
    assert entry["in_context_message_ids"] == ["message-0", "message-1", "message-2"]
    assert all(message["agent_id"] == "agent-0" for message in entry["messages"])
    assert agent.id not in json.dumps(exported)  # no id of this server leaks into the file
    assert exported["metadata"] == {"revision_id": "agentbatch-1"}


async def test_importing_twice_replaces_the_custom_tool_by_name_unless_asked_not_to(
    agents: AgentCommands, db: Database
) -> None:
    agent = await agent_with_history(agents, db)
    exported = await agents.files.export(OWNER, agent.id)
    [tool] = [tool for tool in exported["tools"] if tool["name"] == "note"]
    tool["source_code"] = NOTE_SOURCE.replace("return text", "return text.upper()")

    await agents.files.import_file(
        OWNER, copy.deepcopy(exported), ImportOptions(override_existing_tools=False)
    )
    async with db.read() as conn:
        kept = (await tool_store.tools_by_name(conn, OWNER, ["note"]))["note"]
    assert kept.source_code == NOTE_SOURCE

    tools_before = await rows(db, "tools")
    await agents.files.import_file(OWNER, exported, ImportOptions())
    async with db.read() as conn:
        replaced = (await tool_store.tools_by_name(conn, OWNER, ["note"]))["note"]
    assert replaced.id == kept.id and "text.upper()" in (replaced.source_code or "")
    assert await rows(db, "tools") == tools_before  # the same tool, not a second one of that name


async def test_import_options_rename_remodel_and_strip_the_history(
    agents: AgentCommands, db: Database
) -> None:
    agent = await agent_with_history(agents, db)
    exported = await agents.files.export(OWNER, agent.id)

    result = await agents.files.import_file(
        OWNER, exported, ImportOptions(name="fresh", model="anthropic/claude-x", strip_messages=True)
    )

    [copy_id] = result.agent_ids
    async with db.read() as conn:
        imported = await agent_store.get_agent(conn, OWNER, copy_id)
    assert imported is not None and imported.name == "fresh"
    assert (
        imported.model == "anthropic/claude-x" and imported.llm_config["model_endpoint_type"] == "anthropic"
    )
    assert await history_of(db, copy_id) == []


@pytest.mark.parametrize("file", ["memgpt_agent_with_convo.af", "loop.af"])
async def test_letta_written_files_import_reporting_what_has_no_counterpart_here(
    agents: AgentCommands, db: Database, file: str
) -> None:
    source = json.loads((DATA / file).read_text())

    result = await agents.files.import_file(OWNER, source, ImportOptions(model=MODEL))

    [agent_id] = result.agent_ids
    async with db.read() as conn:
        agent = await agent_store.get_agent(conn, OWNER, agent_id)
    assert agent is not None and agent.system == source["agents"][0]["system"]
    assert {b.label for b in agent.blocks} == {b["label"] for b in source["blocks"]}
    history = await history_of(db, agent_id)
    assert all(message.role is not Role.SYSTEM for message in history)  # re-rendered at every step
    if file == "loop.af":
        left_out = " ".join(result.warnings)
        assert "'web_search' (letta_builtin) is not available here; left out" in left_out
        assert "note" in {tool.name for tool in agent.tools}
        assert "web_search" not in {tool.name for tool in agent.tools}


def minimal_file(**agent: Any) -> dict[str, Any]:
    return {"agents": [{"id": "agent-0", "model": MODEL, **agent}], "blocks": [], "tools": []}


def custom_tool(name: str, file_id: str = "tool-0") -> dict[str, Any]:
    return {
        "id": file_id,
        "name": name,
        "tool_type": "custom",
        "source_code": NOTE_SOURCE.replace("note", name),
    }


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (["agents"], "must be a JSON object"),
        ({"core_memory": [], "messages": []}, "legacy single-agent file format"),
        ({"blocks": []}, "no `agents` list"),
        ({"agents": []}, "holds no agent"),
        ({"agents": {"id": "agent-0"}}, "`agents` must be a list of objects"),
        ({"agents": [{"id": "agent-0"}], "blocks": ["block-0"]}, "`blocks` must be a list of objects"),
        (minimal_file(agent_type="react_agent_v9"), r"agents\[0\].agent_type 'react_agent_v9' is not known"),
        (minimal_file(model=None), r"agents\[0\]: .*give another `model` with the import"),
        (minimal_file(model="nowhere/x"), r"agents\[0\]: .*nowhere"),
        (minimal_file(block_ids=["block-9"]), r"agents\[0\].block_ids names 'block-9', which is not in"),
        (minimal_file(tool_rules=[{"type": "no_such_rule"}]), r"agents\[0\].tool_rules"),
        (
            {**minimal_file(block_ids=["block-0", "block-1"]),
             "blocks": [{"id": "block-0", "label": "human"}, {"id": "block-1", "label": "human"}]},
            r"block 'block-1' has a missing or repeated label 'human'",
        ),
        (
            {**minimal_file(block_ids=["block-0"]), "blocks": [{"id": "block-0", "value": "x"}]},
            r"block 'block-0' has a missing or repeated label ''",
        ),
        (
            {**minimal_file(), "tools": [{"id": "tool-0", "tool_type": "custom", "source_code": "x = 1"}]},
            r"tools\[0\] has no name",
        ),
        (
            {**minimal_file(), "tools": [custom_tool("send_message")]},
            r"tools\[0\]: 'send_message' is the name of a built-in tool here",
        ),
    ],
)  # fmt: skip
async def test_a_bad_file_is_refused_naming_the_problem_and_writes_nothing(
    agents: AgentCommands, db: Database, data: Any, problem: str
) -> None:
    before = await stored(db)

    with pytest.raises(InvalidRequest, match=problem):
        await agents.files.import_file(OWNER, data, ImportOptions())

    assert await stored(db) == before


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (minimal_file(messages={"0": {"role": "user"}}), "agents[0].messages must be a list, not an object"),
        (minimal_file(messages=["hi"]), "agents[0].messages[0] must be an object, not a string"),
        (
            minimal_file(messages=[{"role": "user", "content": 5}]),
            "agents[0].messages[0].content must be a string or a list, not a whole number",
        ),
        (
            minimal_file(messages=[{"role": "assistant", "tool_calls": ["call"]}]),
            "agents[0].messages[0].tool_calls[0] must be an object, not a string",
        ),
        (
            minimal_file(messages=[{"role": "assistant", "tool_calls": [{"function": "f()"}]}]),
            "agents[0].messages[0].tool_calls[0].function must be an object, not a string",
        ),
        (
            minimal_file(messages=[{"role": "tool", "tool_returns": [7]}]),
            "agents[0].messages[0].tool_returns[0] must be an object, not a whole number",
        ),
        (minimal_file(tags=[{"team": "a"}]), "agents[0].tags[0] must be a string, not an object"),
        (minimal_file(tool_rules="none"), "agents[0].tool_rules must be a list, not a string"),
        (minimal_file(tool_ids=5), "agents[0].tool_ids must be a list, not a whole number"),
        (minimal_file(name={"first": "Ada"}), "agents[0].name must be a string, not an object"),
        (minimal_file(metadata=[1]), "agents[0].metadata must be an object, not a list"),
        (minimal_file(llm_config="gpt-4"), "agents[0].llm_config must be an object, not a string"),
        (
            {**minimal_file(), "blocks": [{"id": "block-0", "label": "human", "limit": "lots"}]},
            "blocks[0].limit must be a whole number, not a string",
        ),
        (
            {**minimal_file(), "blocks": [{"id": "block-0", "label": "human", "limit": True}]},
            "blocks[0].limit must be a whole number, not true or false",
        ),
        (
            {**minimal_file(), "tools": [{**custom_tool("keepsake"), "return_char_limit": 1.5}]},
            "tools[0].return_char_limit must be a whole number, not a number",
        ),
        (
            {**minimal_file(), "tools": [{**custom_tool("keepsake"), "tags": "x"}]},
            "tools[0].tags must be a list",
        ),
    ],
)
async def test_a_value_of_the_wrong_json_type_is_refused_naming_where_it_is(
    agents: AgentCommands, db: Database, data: dict[str, Any], problem: str
) -> None:
    """Files come from anywhere: a wrong type inside one is the caller's error (a 400), never a crash."""
    before = await stored(db)

    with pytest.raises(InvalidRequest) as refused:
        await agents.files.import_file(OWNER, data, ImportOptions())

    assert str(refused.value.detail).startswith(problem)
    assert await stored(db) == before


async def test_a_file_whose_second_agent_is_bad_leaves_no_trace_of_the_first(
    agents: AgentCommands, db: Database
) -> None:
    data = {
        "agents": [
            {
                "id": "agent-0",
                "model": MODEL,
                "tool_ids": ["tool-0"],
                "messages": [{"role": "user", "content": "hi"}],
            },
            {"id": "agent-1", "model": MODEL, "block_ids": ["block-missing"]},
        ],
        "blocks": [],
        "tools": [custom_tool("keepsake")],
    }
    before = await stored(db)

    with pytest.raises(InvalidRequest, match=r"agents\[1\]"):
        await agents.files.import_file(OWNER, data, ImportOptions())

    assert await stored(db) == before  # not the first agent, its message, nor the custom tool


async def test_a_block_two_agents_share_in_the_file_is_shared_here_too(
    agents: AgentCommands, db: Database
) -> None:
    data = {
        "agents": [
            {"id": "agent-0", "model": MODEL, "block_ids": ["block-0"]},
            {"id": "agent-1", "model": MODEL, "block_ids": ["block-0"]},
        ],
        "blocks": [{"id": "block-0", "label": "team", "value": "we ship on fridays"}],
    }

    result = await agents.files.import_file(OWNER, data, ImportOptions())

    async with db.read() as conn:
        first, second = [await agent_store.get_agent(conn, OWNER, agent_id) for agent_id in result.agent_ids]
    assert first is not None and second is not None
    assert [b.id for b in first.blocks] == [b.id for b in second.blocks]
    assert await rows(db, "blocks") == 1


async def test_what_an_import_cannot_carry_is_reported_not_silently_dropped(
    agents: AgentCommands, db: Database
) -> None:
    data = {
        **minimal_file(
            messages=[
                {"role": "system", "content": "old system prompt"},
                {"role": "user", "content": "hi"},
                {"role": "narrator", "content": "meanwhile"},
                {"role": "assistant", "content": [{"type": "text", "text": "hello", "signature": None}]},
            ]
        ),
        "groups": [{"id": "group-0"}],
        "sources": [{"id": "source-0"}, {"id": "source-1"}],
    }

    result = await agents.files.import_file(OWNER, data, ImportOptions())

    assert "groups: 1 left out (this server has no groups)" in result.warnings
    assert "sources: 2 left out (this server has no sources)" in result.warnings
    assert "messages[2]: role 'narrator' is unknown here; left out" in result.warnings
    history = await history_of(db, result.agent_ids[0])
    assert [(m.role, m.content) for m in history] == [
        (Role.USER, [{"type": "text", "text": "hi"}]),
        (Role.ASSISTANT, [{"type": "text", "text": "hello"}]),
    ]
