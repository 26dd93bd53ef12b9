"""Lane quotas from the providers file, held against the database's open provider batches (so across
processes): work over a quota of open requests or estimated tokens waits as pending and goes later; it
never fails."""

import asyncio
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from letta_client import Letta
from sqlalchemy import select, update

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from agentbatch.store.database import Database
from agentbatch.store.tables import provider_batches
from tests.acceptance.conftest import live_settings
from tests.acceptance.test_provider_batch_lane import LANE, _direct_calls, _finished, _items
from tests.support.live import point_sdks_at
from tests.support.polling import wait_for

MODEL = "openai/gpt-4o-mini"


def _run(database_url: str, statement: object, *, write: bool) -> list[object]:
    async def run() -> list[object]:
        db = Database(database_url)
        try:
            if write:
                async with db.write() as conn:
                    await conn.execute(statement)  # type: ignore[arg-type]
                return []
            async with db.read() as conn:
                return list(await conn.execute(statement))  # type: ignore[arg-type]
        finally:
            await db.dispose()

    return asyncio.run(run())


def _server(database_url: str, tmp_path: Path, quota: str) -> ServerThread:
    providers = tmp_path / "providers.toml"
    providers.write_text(f'[quotas."{MODEL}"]\n{quota}\n')
    settings = live_settings(
        database_url,
        providers_file=providers,
        lane_gather_window_s=0.05,
        lane_poll_min_s=0.05,
        lane_poll_max_s=0.3,
    )
    return ServerThread(settings)


def test_a_token_quota_lets_one_estimated_request_be_open_at_a_time(
    database_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_sdks_at(monkeypatch, fresh_emulator)
    with _server(database_url, tmp_path, "max_open_tokens = 1") as server:
        client = Letta(base_url=server.base_url, max_retries=0)
        agents = [client.agents.create(model=MODEL).id for _ in range(4)]
        batch = client.batches.create(
            requests=[{"agent_id": a, "input": "hi"} for a in agents], extra_body=LANE
        )
        done = _finished(client, batch.id)
        assert [i["status"] for i in _items(client, batch.id)] == ["succeeded"] * 4

    assert done.status == "completed"
    rows = _run(
        database_url,
        select(
            provider_batches.c.request_count,
            provider_batches.c.estimated_tokens,
            provider_batches.c.created_at,
            provider_batches.c.ended_at,
        ).order_by(provider_batches.c.created_at),
        write=False,
    )
    # Every request is over the 1-token quota alone: each went when nothing else was open.
    assert [row.request_count for row in rows] == [1, 1, 1, 1]  # type: ignore[attr-defined]
    assert all(row.estimated_tokens > 1 for row in rows)  # type: ignore[attr-defined]
    for earlier, later in pairwise(rows):
        assert earlier.ended_at <= later.created_at  # type: ignore[attr-defined]
    assert _direct_calls(fresh_emulator) == 0


def test_another_processs_open_provider_batch_counts_against_the_quota(
    database_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_sdks_at(monkeypatch, fresh_emulator)
    foreign = {
        "id": "lane-of-another-process",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "provider_batch_id": "batch_elsewhere",
        "status": "open",
        "worker_id": "worker-elsewhere",
        "request_count": 2,
        "estimated_tokens": 10,
        "created_at": datetime.now(UTC),
    }
    with _server(database_url, tmp_path, "max_open_requests = 2") as server:
        _run(database_url, provider_batches.insert().values(**foreign), write=True)
        client = Letta(base_url=server.base_url, max_retries=0)
        agent = client.agents.create(model=MODEL).id
        batch = client.batches.create(requests=[{"agent_id": agent, "input": "hi"}], extra_body=LANE)
        # The quota is full with the other process's requests: ours waits, pending, and is not sent.
        wait_for(lambda: _items(client, batch.id)[0]["status"] == "running", what="the item to start")
        with pytest.raises(AssertionError, match="timed out"):  # unbounded, the lane submits within 0.1 s
            wait_for(lambda: fresh_emulator.app.state.openai_batches.newest_first(), timeout=1.5)
        assert client.batches.retrieve(batch.id).status == "running"

        released_at = datetime.now(UTC)
        _run(
            database_url,
            update(provider_batches)
            .where(provider_batches.c.id == foreign["id"])
            .values(status="ended", ended_at=released_at),
            write=True,
        )

        done = _finished(client, batch.id)
        assert done.status == "completed" and _items(client, batch.id)[0]["status"] == "succeeded"
    assert len(fresh_emulator.app.state.openai_batches.newest_first()) == 1
    ours = _run(
        database_url,
        select(provider_batches.c.created_at).where(provider_batches.c.id != foreign["id"]),
        write=False,
    )
    assert len(ours) == 1 and ours[0].created_at >= released_at  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", ["anthropic/claude-haiku-4-5", MODEL])
def test_a_providers_quota_refusal_of_a_batch_makes_it_wait_then_go(
    database_url: str, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    # The provider's queue holds 2 requests at once: the second provider batch is refused (Anthropic: a
    # 429 at create; OpenAI: the batch fails with token_limit_exceeded) until the first has ended.
    with EmulatorThread(EmulatorConfig(batch_delay_s=0.5, batch_queue_limit=2)) as limited:
        point_sdks_at(monkeypatch, limited)
        settings = live_settings(
            database_url,
            lane_gather_window_s=0.05,
            lane_gather_max=2,
            lane_poll_min_s=0.05,
            lane_poll_max_s=0.3,
        )
        with ServerThread(settings) as server:
            client = Letta(base_url=server.base_url, max_retries=0)
            agents = [client.agents.create(model=model).id for _ in range(4)]
            first = client.batches.create(
                requests=[{"agent_id": a, "input": "hi"} for a in agents[:2]], extra_body=LANE
            )
            state = limited.app.state
            wait_for(
                lambda: state.openai_batches.newest_first() or state.anthropic_batches.newest_first(),
                what="the first provider batch",
            )
            batch = client.batches.create(  # a second provider batch, while the queue is full
                requests=[{"agent_id": a, "input": "hi"} for a in agents[2:]], extra_body=LANE
            )
            done = _finished(client, batch.id, timeout=60)
            assert [i["status"] for i in _items(client, batch.id)] == ["succeeded"] * 2
            assert _finished(client, first.id).status == "completed"

        assert done.status == "completed"
        state = limited.app.state
        assert state.anthropic_batches.refused + state.openai_batches.refused >= 1
        answered = [b for b in state.openai_batches.newest_first() if b.status == "completed"]
        assert (
            sum(len(b.lines) for b in answered)
            + sum(len(b.requests) for b in state.anthropic_batches.newest_first())
            == 4
        )  # each request answered once
        assert _direct_calls(limited) == 0
