"""kill -9 while a provider batch is open: after the restart the open batch is adopted, its results
committed, the turns finish, and no custom_id was ever submitted twice."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from letta_client import Letta

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from tests.support.live import sdk_environment
from tests.support.polling import wait_for
from tests.support.processes import AgentbatchProcess, free_port

SCRIPT = "[[tool:conversation_search]] survive the crash"
MODELS = ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"]


@pytest.fixture(scope="module")
def slow_batches() -> Iterator[EmulatorThread]:
    """Provider batches that stay open for 2 s: time to kill the server while one is open."""
    with EmulatorThread(EmulatorConfig(batch_delay_s=2.0)) as running:
        yield running


def _server(database_url: str, emulator: EmulatorThread, tmp_path: Path, port: int) -> AgentbatchProcess:
    env = {
        **sdk_environment(emulator),
        "AGENTBATCH_DISPATCH": "provider_batch",  # the server-wide default: the create body names none
        "AGENTBATCH_LEASE_SECONDS": "2",
        "AGENTBATCH_CLAIM_POLL_S": "0.05",
        "AGENTBATCH_LANE_GATHER_WINDOW_S": "0.2",
        "AGENTBATCH_LANE_POLL_MAX_S": "0.5",
    }
    return AgentbatchProcess(
        ["serve", "--port", str(port), "--database-url", database_url], env, tmp_path / "server.log", port
    )


def _custom_ids(emulator: EmulatorThread) -> list[str]:
    state = emulator.app.state
    ids = [line.custom_id for batch in state.openai_batches.newest_first() for line in batch.lines]
    return ids + [r.custom_id for batch in state.anthropic_batches.newest_first() for r in batch.requests]


def _open_batches(emulator: EmulatorThread) -> int:
    state = emulator.app.state
    return sum(
        b.status not in ("completed", "expired", "cancelled", "failed")
        for b in state.openai_batches.newest_first()
    ) + sum(b.processing_status != "ended" for b in state.anthropic_batches.newest_first())


@pytest.mark.parametrize("model", MODELS)
def test_a_server_killed_while_a_provider_batch_is_open_adopts_it_after_restart(
    database_url: str, slow_batches: EmulatorThread, tmp_path: Path, model: str
) -> None:
    slow_batches.app.state.reset()
    port = free_port()
    first = _server(database_url, slow_batches, tmp_path, port).start()
    client = Letta(base_url=first.base_url, max_retries=3)
    agents = [client.agents.create(model=model).id for _ in range(3)]
    batch = client.batches.create(requests=[{"agent_id": agent, "input": SCRIPT} for agent in agents])
    assert (batch.model_extra or {})["dispatch"] == "provider_batch"

    wait_for(lambda: _open_batches(slow_batches) == 1, what="a provider batch to be open")
    first.kill_hard()

    with _server(database_url, slow_batches, tmp_path, port):
        done = wait_for(
            lambda: (b := client.batches.retrieve(batch.id)).status == "completed" and b,
            timeout=60,
            what="the batch to complete after the restart",
        )
        items = client.get(f"/v1/messages/batches/{batch.id}/items?order=asc", cast_to=object)
    assert (done.model_extra or {})["request_counts"]["succeeded"] == 3
    assert isinstance(items, list)
    assert all(item["step_count"] == 2 and item["stop_reason"] == "end_turn" for item in items)
    custom_ids = _custom_ids(slow_batches)
    assert len(custom_ids) == 6 and len(set(custom_ids)) == 6  # two steps each, each submitted once
    assert slow_batches.app.state.stats.snapshot() == {}  # never a direct model call
