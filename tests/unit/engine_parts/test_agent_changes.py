"""Changing agents, memory blocks and tools after creation: a refused change names the problem and
leaves everything as it was, even the parts of the change that were fine."""

from dataclasses import replace

import pytest

from agentbatch.domain.agents import Agent, Block, Tool, ToolType
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.domain.states import BatchStatus
from agentbatch.engine.agent_changes import AgentUpdate, BlockChange
from agentbatch.engine.agent_commands import AgentCommands, NewBlock
from agentbatch.engine.batch_commands import BatchCommands
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.tool_changes import ToolPatch
from agentbatch.store import agents as agent_store
from agentbatch.store import batches as batch_store
from agentbatch.store import tools as tool_store
from agentbatch.store.database import Database
from tests.unit.engine_parts.conftest import OWNER, new_agent, turn
from tests.unit.engine_parts.test_agent_commands import GREET_SOURCE, custom


async def reloaded(db: Database, agent: Agent) -> Agent:
    async with db.read() as conn:
        found = await agent_store.get_agent(conn, OWNER, agent.id)
    assert found is not None
    return found


def update(**fields: object) -> AgentUpdate:
    return AgentUpdate(given=frozenset(fields), **fields)  # type: ignore[arg-type]


def block_change(**fields: object) -> BlockChange:
    return BlockChange(given=frozenset(fields), **fields)  # type: ignore[arg-type]


async def test_an_update_changes_only_the_fields_given(agents: AgentCommands, db: Database) -> None:
    agent = await new_agent(agents, description="keeps this", tags=["old"], metadata={"a": 1})

    changed = await agents.changes.update(
        OWNER,
        agent.id,
        update(name="renamed", tags=["x", "y", "x"], system=None, options={"timezone": "UTC"}),
    )

    assert changed.name == "renamed" and changed.tags == ["x", "y"]
    assert changed.system == agent.system  # a null system is no change, not an empty prompt
    assert changed.description == "keeps this" and changed.metadata == {"a": 1}
    assert changed.options["timezone"] == "UTC"
    assert changed.updated_at >= agent.updated_at
    assert await reloaded(db, agent) == changed


async def test_a_new_model_brings_its_own_llm_config_and_keeps_given_settings(agents: AgentCommands) -> None:
    agent = await new_agent(agents)

    changed = await agents.changes.update(OWNER, agent.id, update(model="anthropic/claude-x"))
    assert changed.model == "anthropic/claude-x"
    assert changed.llm_config["model_endpoint_type"] == "anthropic"

    tuned = await agents.changes.update(OWNER, agent.id, update(llm_config={"temperature": 0.1}))
    assert tuned.model == "anthropic/claude-x" and tuned.llm_config["temperature"] == 0.1


@pytest.mark.parametrize(
    ("change", "error", "problem"),
    [
        (update(name="lost", tool_ids=["tool-gone"]), NotFound, r"Tool\(s\) not found: tool-gone"),
        (update(name="lost", block_ids=["block-gone"]), NotFound, r"Block block-gone not found"),
        (update(name="lost", tool_rules=[{"type": "nope"}]), InvalidRequest, r"^tool_rules: "),
        (update(name="lost", model="nowhere/x"), InvalidRequest, r"nowhere"),
    ],
)
async def test_a_refused_update_changes_nothing_at_all(
    agents: AgentCommands, db: Database, change: AgentUpdate, error: type[Exception], problem: str
) -> None:
    agent = await new_agent(agents, tags=["kept"])

    with pytest.raises(error, match=problem):
        await agents.changes.update(
            OWNER, agent.id, replace(change, tags=["lost"], given=change.given | {"tags"})
        )

    after = await reloaded(db, agent)
    assert after.name == agent.name and after.tags == ["kept"]  # not even the valid parts


async def test_swapping_in_a_block_whose_label_the_agent_has_is_refused(
    agents: AgentCommands, db: Database
) -> None:
    agent = await new_agent(agents)
    other = await agents.changes.create_block(OWNER, Block("block-spare-persona", "persona", "another me"))
    human = await agents.changes.create_block(OWNER, Block("block-spare-human", "human", "Ada"))

    with pytest.raises(
        InvalidRequest, match=rf"agent {agent.id} already has a memory block labelled 'persona'"
    ):
        await agents.changes.update(
            OWNER, agent.id, update(block_ids=[agent.blocks[0].id, human.id, other.id])
        )
    assert [b.label for b in (await reloaded(db, agent)).blocks] == ["persona"]

    swapped = await agents.changes.update(OWNER, agent.id, update(block_ids=[other.id, human.id]))
    assert sorted((b.label, b.value) for b in swapped.blocks) == [("human", "Ada"), ("persona", "another me")]


async def test_unknown_agents_are_not_found_for_every_change(agents: AgentCommands) -> None:
    changes = agents.changes
    for attempt in (
        changes.update(OWNER, "agent-nope", update(name="x")),
        changes.attach_tool(OWNER, "agent-nope", "tool-x", True),
        changes.set_approval(OWNER, "agent-nope", "send_message", True),
        changes.reset_messages(OWNER, "agent-nope"),
        changes.cancel_turn(OWNER, "agent-nope", None),
        changes.update_agent_block(OWNER, "agent-nope", "persona", block_change(value="v")),
        changes.attach_block(OWNER, "agent-nope", "block-x", True),
    ):
        with pytest.raises(NotFound, match="Agent agent-nope not found"):
            await attempt


async def test_attaching_and_detaching_a_tool(agents: AgentCommands) -> None:
    agent = await new_agent(agents)
    greet = await agents.create_tool(OWNER, custom())

    with pytest.raises(NotFound, match="Tool tool-nope not found"):
        await agents.changes.attach_tool(OWNER, agent.id, "tool-nope", True)
    attached = await agents.changes.attach_tool(OWNER, agent.id, greet.id, True)
    assert "greet" in {tool.name for tool in attached.tools}
    detached = await agents.changes.attach_tool(OWNER, agent.id, greet.id, False)
    assert "greet" not in {tool.name for tool in detached.tools}


async def test_requiring_approval_keeps_one_rule_per_tool_and_can_be_undone(agents: AgentCommands) -> None:
    agent = await new_agent(agents)

    with pytest.raises(NotFound, match=rf"Tool 'greet' is not attached to agent {agent.id}"):
        await agents.changes.set_approval(OWNER, agent.id, "greet", True)

    await agents.changes.set_approval(OWNER, agent.id, "memory_insert", True)
    twice = await agents.changes.set_approval(OWNER, agent.id, "memory_insert", True)
    assert twice.tool_rules == [
        {"type": "requires_approval", "tool_name": "memory_insert", "prompt_template": None}
    ]
    undone = await agents.changes.set_approval(OWNER, agent.id, "memory_insert", False)
    assert undone.tool_rules == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            block_change(value="x" * 101),
            r"memory block 'persona' would hold 101 characters, over its limit of 100",
        ),
        (block_change(limit=3), r"memory block 'persona' would hold 7 characters, over its limit of 3"),
        (block_change(label="human"), r"already has a memory block labelled 'human'"),
    ],
)
async def test_a_refused_block_change_names_the_problem_and_keeps_the_block(
    agents: AgentCommands, db: Database, change: BlockChange, problem: str
) -> None:
    agent = await new_agent(
        agents, memory_blocks=[NewBlock("persona", "I help.", limit=100), NewBlock("human", "Ada")]
    )

    with pytest.raises(InvalidRequest, match=problem):
        await agents.changes.update_agent_block(OWNER, agent.id, "persona", change)

    [persona] = [b for b in (await reloaded(db, agent)).blocks if b.label == "persona"]
    assert (persona.value, persona.limit) == ("I help.", 100)


async def test_a_shared_block_cannot_be_relabelled_into_a_clash_with_any_of_its_agents(
    agents: AgentCommands,
) -> None:
    shared = await agents.changes.create_block(OWNER, Block("block-shared-notes", "notes", "team notes"))
    first = await new_agent(agents, "first", memory_blocks=[])
    second = await new_agent(agents, "second", memory_blocks=[NewBlock("plans", "ship")])
    for agent in (first, second):
        await agents.changes.attach_block(OWNER, agent.id, shared.id, True)

    with pytest.raises(
        InvalidRequest, match=rf"agent {second.id} already has a memory block labelled 'plans'"
    ):
        await agents.changes.update_block(OWNER, shared.id, block_change(label="plans"))

    renamed = await agents.changes.update_block(
        OWNER, shared.id, block_change(label="team", value="new notes")
    )
    assert (renamed.label, renamed.value) == ("team", "new notes")


async def test_attaching_and_detaching_blocks(agents: AgentCommands) -> None:
    agent = await new_agent(agents)
    clash = await agents.changes.create_block(OWNER, Block("block-clash", "persona", "twin"))
    extra = await agents.changes.create_block(OWNER, Block("block-extra", "human", "Ada"))

    with pytest.raises(InvalidRequest, match="already has a memory block labelled 'persona'"):
        await agents.changes.attach_block(OWNER, agent.id, clash.id, True)
    with pytest.raises(NotFound, match=f"Block {extra.id} is not attached to agent {agent.id}"):
        await agents.changes.attach_block(OWNER, agent.id, extra.id, False)
    with pytest.raises(NotFound, match="Block block-nope not found"):
        await agents.changes.attach_block(OWNER, agent.id, "block-nope", True)

    attached = await agents.changes.attach_block(OWNER, agent.id, extra.id, True)
    again = await agents.changes.attach_block(OWNER, agent.id, extra.id, True)  # already there: no change
    assert [b.label for b in attached.blocks] == [b.label for b in again.blocks]
    assert sorted(b.label for b in again.blocks) == ["human", "persona"]


async def test_blocks_are_created_within_their_limit_and_deleted_once(agents: AgentCommands) -> None:
    with pytest.raises(InvalidRequest, match="would hold 5 characters, over its limit of 4"):
        await agents.changes.create_block(OWNER, Block("block-big", "big", "12345", limit=4))

    block = await agents.changes.create_block(OWNER, Block("block-ok", "ok", "1234", limit=4))
    await agents.changes.delete_block(OWNER, block.id)
    with pytest.raises(NotFound, match=f"Block {block.id} not found"):
        await agents.changes.delete_block(OWNER, block.id)
    with pytest.raises(NotFound):
        await agents.changes.update_block(OWNER, block.id, block_change(value="x"))


async def test_cancelling_an_agents_turn_ends_its_request_and_stops_the_running_task(
    agents: AgentCommands, batches: BatchCommands, signals: EngineSignals, db: Database
) -> None:
    stopped: list[str] = []
    signals.on_cancel(stopped.append)
    agent = await new_agent(agents)
    batch = (await batches.submit(OWNER, [turn(agent.id)])).batch

    cancelled = await agents.changes.cancel_turn(OWNER, agent.id, None)

    assert len(cancelled) == 1 and stopped == cancelled
    async with db.read() as conn:
        ended = await batch_store.get_batch(conn, OWNER, batch.id)
    assert ended is not None and ended.status is BatchStatus.CANCELLED
    assert await agents.changes.cancel_turn(OWNER, agent.id, None) == []  # nothing left to cancel


async def test_a_tool_patch_with_new_source_takes_its_new_schema(agents: AgentCommands) -> None:
    tool = await agents.create_tool(OWNER, custom())
    source = GREET_SOURCE.replace("name: str", "name: str, times: int").replace(
        "name: who to greet", "name: who to greet\n        times: how often"
    )

    patched = await agents.tools.update(
        OWNER, tool.id, ToolPatch(given=frozenset({"source_code"}), source_code=source)
    )

    assert patched.id == tool.id and patched.name == "greet"
    assert set(patched.json_schema["parameters"]["properties"]) == {"name", "times"}


async def test_a_tool_patch_of_the_description_shows_in_its_schema(agents: AgentCommands) -> None:
    tool = await agents.create_tool(OWNER, custom())
    patched = await agents.tools.update(
        OWNER, tool.id, ToolPatch(given=frozenset({"description", "tags"}), description="Say hi.", tags=["x"])
    )
    assert patched.description == "Say hi." and patched.json_schema["description"] == "Say hi."
    assert patched.tags == ["x"]


async def test_a_refused_tool_patch_names_the_problem_and_keeps_the_tool(
    agents: AgentCommands, db: Database
) -> None:
    greet = await agents.create_tool(OWNER, custom())
    await agents.create_tool(OWNER, custom(GREET_SOURCE.replace("def greet", "def wave")))
    renaming = ToolPatch(
        given=frozenset({"source_code"}), source_code=GREET_SOURCE.replace("def greet", "def wave")
    )

    with pytest.raises(
        InvalidRequest, match=r"the new source names the tool 'wave', already the name of a tool"
    ):
        await agents.tools.update(OWNER, greet.id, renaming)
    async with db.read() as conn:
        kept = (await tool_store.tools_by_id(conn, OWNER, [greet.id]))[greet.id]
    assert kept.name == "greet" and kept.source_code == GREET_SOURCE

    with pytest.raises(NotFound, match="Tool tool-nope not found"):
        await agents.tools.update(OWNER, "tool-nope", renaming)


async def test_built_in_tools_cannot_be_changed_or_shadowed(agents: AgentCommands, db: Database) -> None:
    async with db.read() as conn:
        builtin = (await tool_store.tools_by_name(conn, OWNER, ["send_message"]))["send_message"]

    with pytest.raises(InvalidRequest, match="'send_message' is a built-in tool; it cannot be changed"):
        await agents.tools.update(OWNER, builtin.id, ToolPatch(given=frozenset({"tags"}), tags=["mine"]))
    shadow = custom(GREET_SOURCE.replace("def greet", "def send_message"))
    with pytest.raises(InvalidRequest, match="'send_message' is the name of a built-in tool; choose another"):
        await agents.tools.upsert(OWNER, shadow)


async def test_an_upsert_by_name_keeps_the_tools_id_and_metadata(agents: AgentCommands) -> None:
    first = await agents.tools.upsert(OWNER, custom(metadata={"team": "a"}))
    again = await agents.tools.upsert(OWNER, custom(GREET_SOURCE.replace('"hello "', '"hi "')))

    assert again.id == first.id and again.created_at == first.created_at
    assert again.metadata == {"team": "a"} and '"hi "' in (again.source_code or "")
    assert isinstance(again, Tool) and again.tool_type is ToolType.CUSTOM
