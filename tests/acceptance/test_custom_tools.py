"""Custom tools run out of process: results, failures, hangs and secrets, seen from the agent's turn."""

import json

import pytest
from letta_client import Letta

SOURCES = {
    "roll": '''
def roll(sides: int, times: int = 1) -> str:
    """Roll dice.

    Args:
        sides: Faces per die.
        times: How many dice.
    """
    print("rolling")
    return str(sides * times)
''',
    "spin_forever": '''
def spin_forever() -> str:
    """Never returns."""
    while True:
        pass
''',
    "show_environment": '''
def show_environment() -> str:
    """Everything the tool can see of its environment."""
    import json
    import os
    return json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "files": os.listdir(".")})
''',
    "explode": '''
def explode() -> str:
    """Raises."""
    raise ValueError("the tool broke")
''',
}


@pytest.fixture
def agent(live: Letta) -> str:
    for source in SOURCES.values():
        live.tools.create(source_code=source)
    return live.agents.create(model="openai/gpt-4o-mini", tools=list(SOURCES)).id


def _tool_return(live: Letta, agent: str, directive: str) -> tuple[str, str, list[str] | None]:
    response = live.agents.messages.create(agent, input=f"{directive} go")
    ret = next(m for m in response.messages if m.message_type == "tool_return_message")
    assert response.stop_reason.stop_reason == "end_turn"
    return ret.status, ret.tool_return, ret.stdout


def test_a_custom_tool_runs_with_the_models_arguments(live: Letta, agent: str) -> None:
    status, value, stdout = _tool_return(live, agent, '[[tool:roll {"sides": 6, "times": 3}]]')
    assert (status, value) == ("success", "18")
    assert stdout == ["rolling"]


def test_a_tool_that_never_returns_is_stopped_and_reported(live: Letta, agent: str) -> None:
    status, value, _ = _tool_return(live, agent, "[[tool:spin_forever]]")
    assert status == "error" and "timed out" in value


def test_a_tool_that_raises_gives_the_model_the_error(live: Letta, agent: str) -> None:
    status, value, _ = _tool_return(live, agent, "[[tool:explode]]")
    assert status == "error" and "ValueError: the tool broke" in value


def test_a_tool_sees_no_server_secrets(live: Letta, agent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTBATCH_DATABASE_URL", "postgresql://secret@db/prod")
    status, value, _ = _tool_return(live, agent, "[[tool:show_environment]]")
    seen = json.loads(value)

    assert status == "success"
    leaked = {
        name
        for name in seen["env"]
        if "KEY" in name or name.startswith(("AGENTBATCH", "OPENAI", "ANTHROPIC"))
    }
    assert leaked == set()
    assert "secret" not in value and "agentbatch.db" not in value
    assert seen["files"] == []  # a fresh, empty working directory
