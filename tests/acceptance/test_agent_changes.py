"""Changing agents after creation, through letta-client 1.7.0 over real HTTP (API alone)."""

import pytest
from letta_client import BadRequestError, Letta, NotFoundError

MODEL = "openai/gpt-4o-mini"
SOURCE = '''
def roll(sides: int) -> int:
    """Roll a die.

    Args:
        sides: How many sides the die has.
    """
    return 4
'''


def _agent(client: Letta, **extra: object) -> str:
    blocks = [{"label": "human", "value": "Ada", "limit": 100}, {"label": "persona", "value": "calm"}]
    return client.agents.create(model=MODEL, memory_blocks=blocks, tags=["a"], **extra).id  # type: ignore[arg-type]


def test_update_changes_named_fields_and_leaves_the_rest(client: Letta) -> None:
    agent_id = _agent(client, name="first", system="Be brief.", metadata={"k": 1})
    before = client.agents.retrieve(agent_id)

    updated = client.agents.update(
        agent_id, name="second", tags=["b", "c"], description="now described", metadata={"k": 2}
    )

    assert updated.name == "second" and updated.description == "now described"
    assert sorted(updated.tags) == ["b", "c"] and updated.metadata == {"k": 2}
    assert updated.system == "Be brief."  # not sent: unchanged
    assert [b.value for b in updated.memory.blocks] == [b.value for b in before.memory.blocks]
    assert {t.name for t in updated.tools} == {t.name for t in before.tools}
    again = client.agents.retrieve(agent_id)
    assert again.name == "second" and sorted(again.tags) == ["b", "c"]
    assert [a.id for a in client.agents.list(tags=["b"])] == [agent_id]
    assert list(client.agents.list(tags=["a"])) == []


def test_update_switches_the_model_and_rejects_an_unknown_one(client: Letta) -> None:
    agent_id = _agent(client)

    updated = client.agents.update(agent_id, model="anthropic/claude-sonnet-4")

    assert updated.llm_config.model == "claude-sonnet-4"
    assert updated.llm_config.api_model_endpoint_type == "anthropic"
    with pytest.raises(BadRequestError):
        client.agents.update(agent_id, model="nowhere/model-x")
    assert client.agents.retrieve(agent_id).llm_config.model == "claude-sonnet-4"


def test_update_rejects_bad_tool_rules_and_unknown_tools_writing_nothing(client: Letta) -> None:
    agent_id = _agent(client, name="kept")

    with pytest.raises(BadRequestError, match="tool_rules"):
        client.agents.update(
            agent_id, name="lost", tool_rules=[{"type": "max_count_per_step", "tool_name": "x"}]
        )  # type: ignore[list-item]
    with pytest.raises(NotFoundError, match="tool-00000000"):
        client.agents.update(agent_id, name="lost", tool_ids=["tool-00000000-0000-4000-8000-000000000000"])

    assert client.agents.retrieve(agent_id).name == "kept"


def test_tools_attach_list_detach_and_approval(client: Letta) -> None:
    agent_id = _agent(client, include_base_tools=False)
    tool = client.tools.create(source_code=SOURCE)

    attached = client.agents.tools.attach(tool.id, agent_id=agent_id)
    twice = client.agents.tools.attach(tool.id, agent_id=agent_id)

    assert [t.name for t in attached.tools] == ["roll"] and [t.name for t in twice.tools] == ["roll"]
    assert [t.id for t in client.agents.tools.list(agent_id)] == [tool.id]
    assert list(client.agents.tools.list(agent_id, limit=0)) == []

    approved = client.agents.tools.update_approval("roll", agent_id=agent_id, body_requires_approval=True)
    assert [(r.type, r.tool_name) for r in approved.tool_rules or []] == [("requires_approval", "roll")]
    cleared = client.agents.tools.update_approval("roll", agent_id=agent_id, body_requires_approval=False)
    assert cleared.tool_rules == []
    with pytest.raises(NotFoundError, match="not attached"):
        client.agents.tools.update_approval("nope", agent_id=agent_id, body_requires_approval=True)

    detached = client.agents.tools.detach(tool.id, agent_id=agent_id)
    assert detached.tools == [] and list(client.agents.tools.list(agent_id)) == []
    with pytest.raises(NotFoundError):
        client.agents.tools.attach("tool-00000000-0000-4000-8000-000000000000", agent_id=agent_id)


def test_agent_blocks_list_retrieve_update_by_label(client: Letta) -> None:
    agent_id = _agent(client)

    assert [b.label for b in client.agents.blocks.list(agent_id, order="asc")] == ["human", "persona"]
    assert client.agents.blocks.retrieve("human", agent_id=agent_id).value == "Ada"

    changed = client.agents.blocks.update("human", agent_id=agent_id, value="Ada Lovelace", description="who")

    assert changed.value == "Ada Lovelace" and changed.limit == 100 and changed.description == "who"
    human = next(b for b in client.agents.retrieve(agent_id).memory.blocks if b.label == "human")
    assert (human.value, human.limit, human.description) == ("Ada Lovelace", 100, "who")
    with pytest.raises(BadRequestError, match="over its limit of 100"):
        client.agents.blocks.update("human", agent_id=agent_id, value="x" * 101)
    with pytest.raises(BadRequestError, match="already has a memory block labelled 'persona'"):
        client.agents.blocks.update("human", agent_id=agent_id, label="persona")
    with pytest.raises(NotFoundError, match="'nobody'"):
        client.agents.blocks.retrieve("nobody", agent_id=agent_id)


def test_blocks_detach_attach_between_agents_and_standalone(client: Letta) -> None:
    first, second = _agent(client), _agent(client)
    human = client.agents.blocks.retrieve("human", agent_id=first)

    # Held by the first agent, it still cannot join the second: that one has a block labelled human.
    with pytest.raises(BadRequestError, match="already has a memory block labelled 'human'"):
        client.agents.blocks.attach(human.id, agent_id=second)
    detached = client.agents.blocks.detach(human.id, agent_id=first)
    assert [b.label for b in detached.memory.blocks] == ["persona"]
    assert client.blocks.retrieve(human.id).value == "Ada"  # a detached block lives on
    with pytest.raises(BadRequestError, match="already has a memory block labelled 'human'"):
        client.agents.blocks.attach(human.id, agent_id=second)

    made = client.blocks.create(label="notes", value="remember the milk")
    attached = client.agents.blocks.attach(made.id, agent_id=second)
    assert [b.label for b in attached.memory.blocks] == ["human", "persona", "notes"]
    assert client.blocks.update(made.id, value="bought").value == "bought"
    assert client.agents.blocks.retrieve("notes", agent_id=second).value == "bought"

    moved = client.agents.update(first, block_ids=[human.id])
    assert [b.label for b in moved.memory.blocks] == ["human"]  # persona detached, human back


def test_reset_messages_and_cancel_on_an_idle_agent(client: Letta) -> None:
    agent_id = _agent(client)

    reset = client.agents.messages.reset(agent_id)

    assert reset.id == agent_id
    assert list(client.agents.messages.list(agent_id)) == []
    assert client.agents.messages.cancel(agent_id) == {}
    with pytest.raises(NotFoundError):
        client.agents.messages.cancel("agent-00000000-0000-4000-8000-000000000000")
