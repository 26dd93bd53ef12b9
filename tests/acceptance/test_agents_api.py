"""The agent calls a batch needs, through letta-client 1.7.0 over real HTTP."""

import uuid

import pytest
from letta_client import BadRequestError, Letta, NotFoundError, UnprocessableEntityError

MODEL = "openai/gpt-4o-mini"


def test_created_agent_reads_back_with_every_field_the_sdk_requires(client: Letta) -> None:
    created = client.agents.create(
        name="researcher",
        model=MODEL,
        system="You study things.",
        memory_blocks=[
            {"label": "human", "value": "Ada", "limit": 500, "description": "who I talk to"},
            {"label": "persona", "value": "curious", "read_only": True},
        ],
        tags=["team-a", "nightly"],
        metadata={"owner": "ops"},
    )
    fetched = client.agents.retrieve(created.id)

    assert fetched.id == created.id and fetched.id.startswith("agent-")
    assert fetched.name == "researcher"
    assert fetched.agent_type == "letta_v1_agent"
    assert fetched.system == "You study things."
    assert fetched.llm_config.model == "gpt-4o-mini"
    assert fetched.llm_config.api_model_endpoint_type == "openai"
    assert fetched.llm_config.context_window > 0
    assert sorted(fetched.tags) == ["nightly", "team-a"]
    assert fetched.metadata == {"owner": "ops"}
    assert [(b.label, b.value, b.limit) for b in fetched.memory.blocks] == [
        ("human", "Ada", 500),
        ("persona", "curious", 20000),
    ]
    assert fetched.blocks[1].read_only is True
    assert fetched.sources == []
    assert {tool.name for tool in fetched.tools} == {
        "conversation_search",
        "memory_insert",
        "memory_replace",
        "core_memory_append",
        "core_memory_replace",
    }


def test_older_agent_types_get_send_message_and_base_tools_can_be_left_out(client: Letta) -> None:
    memgpt = client.agents.create(model=MODEL, agent_type="memgpt_v2_agent")
    bare = client.agents.create(model="anthropic/claude-sonnet-4", include_base_tools=False)

    assert "send_message" in {tool.name for tool in memgpt.tools}
    assert bare.tools == []
    assert bare.llm_config.api_model_endpoint_type == "anthropic"
    assert memgpt.name  # a name is generated when none is given


def test_an_unknown_tool_or_provider_is_a_clear_client_error(client: Letta) -> None:
    with pytest.raises(NotFoundError, match="no_such_tool"):
        client.agents.create(model=MODEL, tools=["no_such_tool"])
    with pytest.raises(BadRequestError, match="unknown provider 'nowhere'"):
        client.agents.create(model="nowhere/model-x")
    with pytest.raises(BadRequestError, match="needs a model"):
        client.agents.create(name="no-model")
    assert list(client.agents.list()) == []


def test_list_filters_by_name_and_tags(client: Letta) -> None:
    a = client.agents.create(name="a", model=MODEL, tags=["x", "y"])
    b = client.agents.create(name="b", model=MODEL, tags=["x"])
    client.agents.create(name="c", model=MODEL)

    assert [agent.id for agent in client.agents.list(name="a")] == [a.id]
    assert {agent.id for agent in client.agents.list(tags=["x"])} == {a.id, b.id}
    assert [agent.id for agent in client.agents.list(tags=["x", "y"], match_all_tags=True)] == [a.id]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_auto_pagination_visits_every_agent_once_in_order(client: Letta, order: str) -> None:
    created = [client.agents.create(name=f"agent-{i}", model=MODEL).id for i in range(7)]

    seen = [agent.id for agent in client.agents.list(limit=3, order=order)]  # type: ignore[arg-type]

    assert seen == (created if order == "asc" else created[::-1])


def test_deleted_agent_is_gone_and_unknown_ids_are_404(client: Letta) -> None:
    agent = client.agents.create(model=MODEL)
    assert client.agents.delete(agent.id) == {}

    with pytest.raises(NotFoundError):
        client.agents.retrieve(agent.id)
    with pytest.raises(NotFoundError):
        client.agents.delete(agent.id)
    with pytest.raises(NotFoundError):
        client.agents.messages.list(f"agent-{uuid.uuid4()}")
    with pytest.raises(UnprocessableEntityError):
        client.agents.retrieve("agent-not-a-uuid")


def test_a_new_agent_has_an_empty_history(client: Letta) -> None:
    agent = client.agents.create(model=MODEL)
    assert list(client.agents.messages.list(agent.id)) == []


ROLL = '''
def roll(sides: int) -> str:
    """Roll one die.

    Args:
        sides: Faces on the die.
    """
    return str(sides)
'''


def test_a_custom_tool_is_registered_from_source_and_attached_by_name(client: Letta) -> None:
    tool = client.tools.create(source_code=ROLL, tags=["dice"])
    agent = client.agents.create(model=MODEL, tools=["roll"], include_base_tools=False)

    assert tool.id.startswith("tool-") and tool.name == "roll" and tool.tool_type == "custom"
    assert tool.json_schema is not None and tool.json_schema["parameters"]["required"] == ["sides"]
    assert [t.id for t in agent.tools] == [tool.id]
    assert client.tools.retrieve(tool.id).source_code == ROLL
    with pytest.raises(BadRequestError, match="already exists"):
        client.tools.create(source_code=ROLL)
    with pytest.raises(BadRequestError, match="built-in"):
        client.tools.create(source_code="def memory_insert(label: str) -> str:\n    return label\n")
    with pytest.raises(BadRequestError, match="does not parse"):
        client.tools.create(source_code="def nope(:\n")
