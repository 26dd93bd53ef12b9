"""kill -9 in the middle of a multi-step turn: the turn finishes elsewhere, each step exactly once."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from letta_client import Letta
from sqlalchemy import Select, func, select

from agentbatch.emulator.server import EmulatorThread
from agentbatch.store.database import Database
from agentbatch.store.tables import metadata, steps
from tests.support.live import sdk_environment
from tests.support.polling import wait_for
from tests.support.processes import AgentbatchProcess, free_port
from tests.support.turns import message_types

# Three steps of about 0.8 s each: plenty of time to kill the server between the first and the second.
SCRIPT = "[[tool:conversation_search]] [[tool:conversation_search]] [[sleep:800]] survive this"


def _server(database_url: str, emulator: EmulatorThread, tmp_path: Path, port: int) -> AgentbatchProcess:
    env = {**sdk_environment(emulator), "AGENTBATCH_LEASE_SECONDS": "2", "AGENTBATCH_CLAIM_POLL_S": "0.05"}
    return AgentbatchProcess(
        ["serve", "--port", str(port), "--database-url", database_url], env, tmp_path / "server.log", port
    )


def _items(client: Letta, batch_id: str) -> list[dict[str, object]]:
    items = client.get(f"/v1/messages/batches/{batch_id}/items?order=asc", cast_to=object)
    assert isinstance(items, list)
    return items


def test_a_turn_killed_between_steps_finishes_after_restart_with_each_step_once(
    database_url: str, emulator: EmulatorThread, tmp_path: Path
) -> None:
    port = free_port()
    first = _server(database_url, emulator, tmp_path, port).start()
    client = Letta(base_url=first.base_url, max_retries=3)
    agents = [client.agents.create(model="openai/gpt-4o-mini").id for _ in range(3)]
    batch = client.batches.create(requests=[{"agent_id": agent, "input": SCRIPT} for agent in agents])

    wait_for(lambda: all(item["step_count"] == 1 for item in _items(client, batch.id)), what="first steps")
    first.kill_hard()

    with _server(database_url, emulator, tmp_path, port):
        done = wait_for(
            lambda: (b := client.batches.retrieve(batch.id)).status == "completed" and b,
            timeout=60,
            what="the batch to complete after the restart",
        )
        assert done.model_extra is not None and done.model_extra["request_counts"]["succeeded"] == 3
        for item in _items(client, batch.id):
            assert item["step_count"] == 3 and item["stop_reason"] == "end_turn"
        for agent in agents:
            history = list(client.agents.messages.list(agent, order="asc"))
            assert message_types(history) == [
                "user_message",
                "tool_call_message",
                "tool_return_message",
                "tool_call_message",
                "tool_return_message",
                "assistant_message",
            ]
            assert len({m.step_id for m in history if m.message_type != "user_message"}) == 3


@pytest.mark.postgres
def test_two_workers_share_one_batch_and_run_no_item_twice(
    database_url: str, emulator: EmulatorThread, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share one database only on PostgreSQL")
    wait_for(lambda: emulator.app.state.stats.in_flight == 0, what="the previous test's calls to end")
    emulator.app.state.reset()
    env = {
        **sdk_environment(emulator),
        "AGENTBATCH_DATABASE_URL": database_url,
        "AGENTBATCH_CLAIM_POLL_S": "0.05",
        "AGENTBATCH_TURNS_PER_MODEL": "8",  # neither worker can take the whole batch alone
        "AGENTBATCH_MODEL_CONCURRENCY": "4",  # shared by both workers: 2 calls each
        "AGENTBATCH_LOG_LEVEL": "info",
    }
    port = free_port()
    api = AgentbatchProcess(["serve", "--port", str(port), "--no-worker"], env, tmp_path / "api.log", port)
    workers = [AgentbatchProcess(["worker"], env, tmp_path / f"worker{i}.log") for i in range(2)]
    with api, workers[0], workers[1]:
        client = Letta(base_url=api.base_url, max_retries=3)
        wait_for(
            lambda: _count_rows(database_url, "workers") == 2, timeout=90, what="both workers to register"
        )
        # Each worker takes its share of the model's limit at its next heartbeat after the other joined;
        # until then the first one to start still holds the whole limit.
        wait_for(
            lambda: _both_saw_each_other(database_url), timeout=30, what="both workers to take their share"
        )
        agents = [client.agents.create(model="openai/gpt-4o-mini").id for _ in range(40)]
        requests = [
            {"agent_id": agent, "input": "[[tool:conversation_search]] [[sleep:20]] hi"} for agent in agents
        ]
        batch = client.batches.create(requests=requests * 2)  # two turns per agent, in order

        try:
            wait_for(
                lambda: client.batches.retrieve(batch.id).status == "completed", timeout=90, what="the end"
            )
        except AssertionError as stuck:
            logs = "\n".join(
                f"--- {p.log_path.name}\n{p.log_path.read_text()[-4000:]}" for p in [api, *workers]
            )
            counts = (client.batches.retrieve(batch.id).model_extra or {}).get("request_counts")
            raise AssertionError(f"{stuck}; request counts {counts}\n{logs}") from None

        items = _items(client, batch.id)
        assert all(item["step_count"] == 2 and item["status"] == "succeeded" for item in items)
        calls = emulator.app.state.stats.count("POST /v1/chat/completions", 200)
        # Not one provider call more: no step ran twice, and no turn was retried (a refused commit).
        assert calls == len(items) * 2, "\n".join(p.log_path.read_text()[-6000:] for p in [api, *workers])
        assert emulator.app.state.stats.peak_in_flight <= 4  # the per-model limit held across processes
        steps_by_worker = _steps_by_worker(database_url)
        assert len(steps_by_worker) == 2 and sum(steps_by_worker.values()) == len(items) * 2


def _both_saw_each_other(database_url: str) -> bool:
    """Every worker has shown a heartbeat since the last one registered (and so counted both)."""
    workers = metadata.tables["workers"]
    [(registered, oldest_heartbeat)] = _query(
        database_url, select(func.max(workers.c.started_at), func.min(workers.c.heartbeat_at))
    )
    return bool(oldest_heartbeat > registered)


def _steps_by_worker(database_url: str) -> dict[str, int]:
    rows = _query(database_url, select(steps.c.worker_id, func.count()).group_by(steps.c.worker_id))
    return {row[0]: row[1] for row in rows}


def _count_rows(database_url: str, table: str) -> int:
    return int(_query(database_url, select(func.count()).select_from(metadata.tables[table]))[0][0])


def _query(database_url: str, query: Select[Any]) -> list[Any]:
    """Look into the database directly, as an operator would."""

    async def run() -> list[Any]:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                return list((await conn.execute(query)).all())
        finally:
            await db.dispose()

    return asyncio.run(run())
