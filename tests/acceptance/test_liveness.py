"""No item is held without a turn: a turn that fails or overruns gives its item back (retried, bounded,
then errored with the reason); deleting an agent cancels its unfinished work and lets its batch end;
NUL characters a turn produces are stored and read back on both databases."""

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from letta_client import Letta

from agentbatch.emulator.server import EmulatorThread
from agentbatch.runtime.ports import StepSink
from agentbatch.runtime.turn_loop import TurnInput, TurnResult, TurnRunner
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings
from tests.acceptance.test_batch_engine import finished, items
from tests.support.live import point_sdks_at
from tests.support.polling import wait_for
from tests.support.receiver import CallbackReceiver

MODEL = "openai/gpt-4o-mini"
StartServer = Callable[..., Letta]


@pytest.fixture
def start_server(
    database_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StartServer]:
    """API + worker on the test's database (SQLite and PostgreSQL), with the given setting overrides."""
    point_sdks_at(monkeypatch, fresh_emulator)
    servers: list[ServerThread] = []

    def start(**overrides: object) -> Letta:
        server = ServerThread(live_settings(database_url, **overrides)).__enter__()
        servers.append(server)
        return Letta(base_url=server.base_url, max_retries=0)

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def _statuses(client: Letta, batch_id: str) -> list[tuple[str, str | None]]:
    return [(item["status"], item["stop_reason"]) for item in items(client, batch_id)]


def test_deleting_an_agent_mid_turn_cancels_its_work_and_the_batch_ends_with_its_callback(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = start_server(lease_seconds=30.0)  # renewal every 10 s: the slow turn reaches its commit
    quick, doomed = (client.agents.create(model=MODEL).id for _ in range(2))
    with CallbackReceiver() as receiver, caplog.at_level(logging.WARNING, logger="agentbatch"):
        batch = client.batches.create(
            requests=[
                {"agent_id": quick, "input": "fast"},
                {"agent_id": doomed, "input": "[[sleep:1500]] slow"},
                {"agent_id": doomed, "input": "queued behind it"},
            ],
            callback_url=receiver.url,
        )
        wait_for(
            lambda: [s for s, _ in _statuses(client, batch.id)] == ["succeeded", "running", "pending"],
            what="the slow turn to be running",
        )

        client.agents.delete(doomed)

        done = finished(client, batch.id, timeout=20)
        wait_for(lambda: receiver.received, what="the callback")
        # The slow turn's reply arrives after the delete and its commit must be fenced off quietly.
        # This turn outlasts it and goes through the same group committer, behind that commit.
        later = client.agents.messages.create(quick, input="[[sleep:1600]] later")
        assert later.stop_reason.stop_reason == "end_turn"

    assert done.status == "completed"
    assert _statuses(client, batch.id) == [
        ("succeeded", "end_turn"),
        ("cancelled", "cancelled"),
        ("cancelled", "cancelled"),
    ]
    assert all("was deleted" in (item["error"] or "") for item in items(client, batch.id)[1:])
    counts = receiver.received[0]["request_counts"]
    assert receiver.received[0]["status"] == "completed"
    assert (counts["succeeded"], counts["cancelled"], counts["errored"]) == (1, 2, 0)
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert problems == []  # no foreign-key failure, no refused group


def _failing_for(agent_id: str, monkeypatch: pytest.MonkeyPatch, times: int | None = None) -> list[int]:
    """Make the turns of one agent raise an unexpected error (``times`` times, or always)."""
    original = TurnRunner.run
    failures: list[int] = []

    async def run(self: TurnRunner, turn: TurnInput, sink: StepSink) -> TurnResult:
        if turn.agent.id == agent_id and (times is None or len(failures) < times):
            failures.append(1)
            raise RuntimeError("the runtime tripped over something")
        return await original(self, turn, sink)

    monkeypatch.setattr(TurnRunner, "run", run)
    return failures


def test_a_turn_that_fails_once_is_retried_and_succeeds(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = start_server(turn_max_attempts=3)
    agent = client.agents.create(model=MODEL).id
    failures = _failing_for(agent, monkeypatch, times=1)

    batch = client.batches.create(requests=[{"agent_id": agent, "input": "hello"}])

    assert finished(client, batch.id).status == "completed"
    assert _statuses(client, batch.id) == [("succeeded", "end_turn")]
    assert items(client, batch.id)[0]["error"] is None and len(failures) == 1


def test_a_synchronous_turn_that_fails_once_is_retried_in_the_same_request(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = start_server(turn_max_attempts=2)
    agent = client.agents.create(model=MODEL).id
    failures = _failing_for(agent, monkeypatch, times=1)

    response = client.agents.messages.create(agent, input="hello")

    assert response.stop_reason.stop_reason == "end_turn" and len(failures) == 1
    assert [m.content for m in response.messages if m.message_type == "assistant_message"] == ["echo: hello"]


def test_a_turn_that_keeps_failing_errors_with_the_reason_and_the_batch_ends(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = start_server(turn_max_attempts=2)
    doomed, fine = (client.agents.create(model=MODEL).id for _ in range(2))
    failures = _failing_for(doomed, monkeypatch)

    with CallbackReceiver() as receiver:
        batch = client.batches.create(
            requests=[
                {"agent_id": doomed, "input": "first"},
                {"agent_id": doomed, "input": "second"},
                {"agent_id": fine, "input": "third"},
            ],
            callback_url=receiver.url,
        )
        assert finished(client, batch.id).status == "completed"
        wait_for(lambda: receiver.received, what="the callback")

    found = items(client, batch.id)
    assert [(i["status"], i["stop_reason"]) for i in found] == [
        ("errored", "error"),
        ("errored", "error"),  # the agent's next item was not held up for good either
        ("succeeded", "end_turn"),
    ]
    assert "RuntimeError: the runtime tripped over something" in found[0]["error"]
    assert "gave up after 2 attempts" in found[0]["error"]
    assert len(failures) == 4  # two attempts per item, no more
    assert receiver.received[0]["request_counts"]["errored"] == 2


def test_a_turn_past_its_deadline_is_cancelled_and_handled_as_a_failure(start_server: StartServer) -> None:
    client = start_server(turn_deadline_s=0.5, turn_max_attempts=2)
    agent = client.agents.create(model=MODEL).id

    batch = client.batches.create(
        requests=[{"agent_id": agent, "input": "[[sleep:20000]] hangs"}, {"agent_id": agent, "input": "next"}]
    )

    assert finished(client, batch.id, timeout=20).status == "completed"
    found = items(client, batch.id)
    assert [(i["status"], i["stop_reason"]) for i in found] == [
        ("errored", "error"),
        ("succeeded", "end_turn"),
    ]
    assert "deadline of 0.5 s" in found[0]["error"] and "gave up after 2 attempts" in found[0]["error"]


NUL_TOOL = '''
def nul_tool() -> str:
    """Returns text with a NUL character in it."""
    return "before\\x00after"
'''


def test_nul_characters_produced_by_a_turn_are_stored_and_read_back(start_server: StartServer) -> None:
    client = start_server()
    client.tools.create(source_code=NUL_TOOL)
    agent = client.agents.create(
        model=MODEL, tools=["nul_tool"], memory_blocks=[{"label": "human", "value": "Ada"}]
    ).id
    # The model's own tool-call arguments carry a NUL (the JSON escape is the emulator's script).
    script = (
        '[[tool:nul_tool]] [[tool:core_memory_append {"label": "human", "content": "x\\u0000y"}]] '
        "[[reply:done]] go"
    )

    response = client.agents.messages.create(agent, input=script)

    assert response.stop_reason.stop_reason == "end_turn"
    history = list(client.agents.messages.list(agent, order="asc"))
    returns: list[Any] = [m.tool_return for m in history if m.message_type == "tool_return_message"]
    assert returns[0] == "before\ufffdafter"
    calls = [m.tool_call.arguments for m in history if m.message_type == "tool_call_message"]
    assert json.loads(calls[1])["content"] == "x\x00y"  # the model's argument text, kept as it was sent
    blocks = client.agents.retrieve(agent).blocks
    assert next(b.value for b in blocks if b.label == "human").endswith("x\ufffdy")
    # The agent goes on working after it.
    assert client.agents.messages.create(agent, input="again").stop_reason.stop_reason == "end_turn"
