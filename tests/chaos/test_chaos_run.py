"""Random SIGKILLs under load: the server (SQLite), or the API and worker processes (PostgreSQL, two
workers), killed and restarted while multi-step requests run. Afterwards, with every process alive:
every item ended and succeeded, each step exactly once in every history with the messages a step writes,
every tool call answered, request counts that add up, and no item left `running`.

The fast version (3 kills, 30 requests) runs in ``make test``; the long one (24 kills, a few hundred
requests) in ``make chaos``."""

from collections import Counter
from pathlib import Path

import pytest
from letta_client import Letta
from sqlalchemy import func, select

from agentbatch.emulator.server import EmulatorThread
from agentbatch.store.tables import batch_items
from tests.support.audit import audit, query
from tests.support.chaos import STEPS_PER_REQUEST, ChaosRun, Cluster, request_count_problems, run_chaos
from tests.support.live import sdk_environment
from tests.support.turns import message_types

ONE_REQUEST = ["user_message", *["tool_call_message", "tool_return_message"] * 2, "assistant_message"]


def _cluster(database_url: str, emulator: EmulatorThread, tmp_path: Path) -> Cluster:
    postgres = database_url.startswith("postgresql")
    return Cluster(database_url, sdk_environment(emulator), tmp_path, workers=2 if postgres else 0)


def _provider_calls(emulator: EmulatorThread) -> int:
    return emulator.app.state.stats.count("POST /v1/chat/completions", 200)


def _prove_consistent(cluster: Cluster, run: ChaosRun) -> None:
    report = audit(cluster.database_url, expected_steps=dict.fromkeys(run.inputs, STEPS_PER_REQUEST))
    assert report.problems == [], report.problems
    assert report.items == run.requests and report.statuses == Counter(succeeded=run.requests)
    assert report.steps == run.requests * STEPS_PER_REQUEST  # each step exactly once, none lost

    client = Letta(base_url=cluster.api.base_url, max_retries=3)
    (rows,) = query(
        cluster.database_url,
        select(batch_items.c.batch_id, func.count())
        .where(batch_items.c.status == "succeeded")
        .group_by(batch_items.c.batch_id),
    )
    assert request_count_problems(client, run.batch_ids, {row[0]: row[1] for row in rows}) == []
    requests_per_agent = run.requests // len(run.agent_ids)
    for agent_id in run.agent_ids:  # what the user reads back: each turn once, in order, nothing torn
        history = message_types(list(client.agents.messages.list(agent_id, order="asc", limit=1000)))
        assert history == ONE_REQUEST * requests_per_agent, (agent_id, history)


@pytest.mark.chaos
@pytest.mark.timeout(900)
def test_kills_under_load_leave_every_step_once_and_no_item_running(
    database_url: str, emulator: EmulatorThread, tmp_path: Path
) -> None:
    emulator.app.state.reset()
    with _cluster(database_url, emulator, tmp_path).running() as cluster:
        run = run_chaos(
            cluster, lambda: _provider_calls(emulator), agents=15, min_requests=30, kills=3, seed=9
        )
        assert run.kills == 3 and run.requests >= 30
        _prove_consistent(cluster, run)


@pytest.mark.chaos_long
@pytest.mark.timeout(1200)
def test_long_chaos_two_dozen_kills_over_hundreds_of_requests(
    database_url: str, emulator: EmulatorThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.app.state.reset()
    with _cluster(database_url, emulator, tmp_path).running() as cluster:
        run = run_chaos(
            cluster,
            lambda: _provider_calls(emulator),
            agents=50,
            min_requests=300,
            kills=24,
            seed=2026,
            finish_timeout=300,
        )
        with capsys.disabled():
            print(
                f"\nchaos on {database_url.split(':')[0]}: {run.kills} kills {run.victims}, {run.requests} "
                f"requests, items running at each kill {run.running_at_kill}"
            )
        assert run.kills >= 20 and run.requests >= 300
        assert sum(1 for n in run.running_at_kill if n) >= run.kills // 2  # most kills hit turns in flight
        _prove_consistent(cluster, run)
