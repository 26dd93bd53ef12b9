"""One memory block attached to several agents, as Letta allows: an edit by one agent's turn is in the
others' next prompt; detaching removes only the link; deleting an agent keeps a block another agent
uses. Through the SDK over real HTTP, on SQLite and PostgreSQL."""

import json
from collections.abc import Callable

import pytest
from letta_client import Letta

from agentbatch.emulator.responder import Outcome
from agentbatch.emulator.server import EmulatorThread
from tests.acceptance.test_batch_engine import finished

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def client(live_on_each_database: Letta) -> Letta:
    return live_on_each_database


@pytest.fixture
def prompts(fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The raw body of every chat request the emulator answers from now on."""
    seen: list[str] = []
    responder = fresh_emulator.app.state.openai
    original: Callable[[bytes], Outcome] = responder.respond

    def recording(raw: bytes) -> Outcome:
        seen.append(raw.decode())
        return original(raw)

    monkeypatch.setattr(responder, "respond", recording)
    return seen


def _labels(client: Letta, agent_id: str) -> list[str]:
    return [block.label for block in client.agents.retrieve(agent_id).memory.blocks]


def test_an_edit_by_one_agents_turn_is_in_the_other_agents_next_prompt(
    client: Letta, prompts: list[str]
) -> None:
    first, second = (
        client.agents.create(model=MODEL, memory_blocks=[{"label": "human", "value": "Ada"}]).id
        for _ in range(2)
    )
    team = client.blocks.create(label="team", value="Project apollo", limit=500)
    client.agents.blocks.attach(team.id, agent_id=first)
    client.agents.blocks.attach(team.id, agent_id=second)
    assert client.agents.blocks.retrieve("team", agent_id=second).id == team.id

    edit = '[[tool:core_memory_append {"label": "team", "content": "Ships on friday"}]] note it'
    assert client.agents.messages.create(first, input=edit).stop_reason.stop_reason == "end_turn"
    prompts.clear()
    client.agents.messages.create(second, input="what is new?")

    assert client.blocks.retrieve(team.id).value == "Project apollo\nShips on friday"
    assert prompts and all("Ships on friday" in prompt for prompt in prompts)
    assert client.agents.blocks.retrieve("team", agent_id=second).value == "Project apollo\nShips on friday"


def test_detach_removes_only_the_link_and_deleting_an_agent_keeps_a_block_in_use(client: Letta) -> None:
    first, second = (client.agents.create(model=MODEL).id for _ in range(2))
    team = client.blocks.create(label="team", value="Project apollo")
    client.agents.blocks.attach(team.id, agent_id=first)
    client.agents.blocks.attach(team.id, agent_id=second)

    client.agents.blocks.detach(team.id, agent_id=second)
    assert "team" not in _labels(client, second) and "team" in _labels(client, first)
    assert client.blocks.retrieve(team.id).value == "Project apollo"

    client.agents.blocks.attach(team.id, agent_id=second)
    client.agents.delete(first)
    assert client.blocks.retrieve(team.id).value == "Project apollo"
    assert "team" in _labels(client, second)
    assert [block.id for block in client.agents.blocks.list(second) if block.label == "team"] == [team.id]


def test_an_agent_file_whose_agents_share_a_block_imports_them_sharing_it(client: Letta) -> None:
    shared = {"id": "block-0", "label": "team", "value": "Project apollo", "limit": 500}
    content = json.dumps(
        {
            "agents": [
                {"id": f"agent-{i}", "name": f"a{i}", "model": MODEL, "block_ids": ["block-0"]}
                for i in range(2)
            ],
            "blocks": [shared],
            "tools": [],
        }
    ).encode()

    response = client.agents.import_file(file=("team.af", content, "application/json"))

    first, second = (client.agents.blocks.retrieve("team", agent_id=a) for a in response.agent_ids)
    assert first.id == second.id and first.value == "Project apollo"
    client.blocks.update(first.id, value="Project gemini")
    assert client.agents.blocks.retrieve("team", agent_id=response.agent_ids[1]).value == "Project gemini"


def test_agents_editing_a_shared_block_in_one_batch_keep_each_others_edits(client: Letta) -> None:
    agents = [client.agents.create(model=MODEL).id for _ in range(3)]
    team = client.blocks.create(label="team", value="Project apollo", limit=1000)
    for agent_id in agents:
        client.agents.blocks.attach(team.id, agent_id=agent_id)
    scripts = [
        f'[[tool:core_memory_append {{"label": "team", "content": "note {i}"}}]] add' for i in range(3)
    ]

    batch = client.batches.create(
        requests=[{"agent_id": a, "input": s} for a, s in zip(agents, scripts, strict=True)]
    )

    assert finished(client, batch.id).status == "completed"
    lines = client.blocks.retrieve(team.id).value.split("\n")
    assert lines[0] == "Project apollo" and sorted(lines[1:]) == ["note 0", "note 1", "note 2"]
