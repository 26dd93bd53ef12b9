"""The provider-batch lane: multi-step turns through the OpenAI and Anthropic batch APIs of the
emulator, with no direct model call; per-request errors and expiries resubmitted to a terminal end;
cancel reaching the provider; the step rows marked ``provider_batch``."""

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from letta_client import Letta, UnprocessableEntityError
from letta_client.types import BatchJob
from sqlalchemy import func, select

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from agentbatch.settings import Settings
from agentbatch.store.database import Database
from agentbatch.store.tables import steps
from tests.acceptance.conftest import live_settings
from tests.support.live import point_sdks_at
from tests.support.polling import wait_for
from tests.support.turns import message_types

MODELS = ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"]
LANE = {"dispatch": "provider_batch"}
DIRECT_ENDPOINTS = ("POST /v1/chat/completions", "POST /v1/messages")


@pytest.fixture
def lane_server(
    database_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerThread]:
    point_sdks_at(monkeypatch, fresh_emulator)
    settings = live_settings(
        database_url, lane_gather_window_s=0.3, lane_poll_min_s=0.05, lane_poll_max_s=0.3, lane_max_attempts=2
    )
    with ServerThread(settings) as running:
        yield running


@pytest.fixture
def lane(lane_server: ServerThread) -> Letta:
    return Letta(base_url=lane_server.base_url, max_retries=0)


def _finished(client: Letta, batch_id: str, timeout: float = 30) -> BatchJob:
    return wait_for(
        lambda: (
            (b := client.batches.retrieve(batch_id)).status in ("completed", "cancelled", "expired") and b
        ),
        timeout=timeout,
        what=f"batch {batch_id} to end",
    )


def _items(client: Letta, batch_id: str) -> list[dict[str, Any]]:
    found = client.get(f"/v1/messages/batches/{batch_id}/items?order=asc&limit=1000", cast_to=object)
    assert isinstance(found, list)
    return found


def _direct_calls(emulator: EmulatorThread) -> int:
    stats = httpx.get(f"{emulator.base_url}/_emulator/stats").json()["requests"]
    return sum(sum(stats.get(endpoint, {}).values()) for endpoint in DIRECT_ENDPOINTS)


def _submitted_custom_ids(emulator: EmulatorThread) -> list[str]:
    state = emulator.app.state
    ids = [line.custom_id for batch in state.openai_batches.newest_first() for line in batch.lines]
    ids += [
        request.custom_id for batch in state.anthropic_batches.newest_first() for request in batch.requests
    ]
    return ids


@pytest.mark.parametrize("model", MODELS)
def test_multi_step_turns_complete_through_provider_batches_without_a_direct_call(
    lane: Letta, fresh_emulator: EmulatorThread, model: str
) -> None:
    agents = [lane.agents.create(model=model).id for _ in range(3)]
    batch = lane.batches.create(
        requests=[{"agent_id": a, "input": "[[tool:conversation_search]] find it"} for a in agents],
        extra_body=LANE,
    )
    assert (batch.model_extra or {})["dispatch"] == "provider_batch"

    done = _finished(lane, batch.id)

    assert done.status == "completed"
    assert [(i["status"], i["stop_reason"], i["step_count"]) for i in _items(lane, batch.id)] == [
        ("succeeded", "end_turn", 2)
    ] * 3
    history = list(lane.agents.messages.list(agents[0], order="asc"))
    assert message_types(history)[-4:] == [
        "user_message",
        "tool_call_message",
        "tool_return_message",
        "assistant_message",
    ]
    assert _direct_calls(fresh_emulator) == 0
    custom_ids = _submitted_custom_ids(fresh_emulator)
    assert len(custom_ids) == 6 and len(set(custom_ids)) == 6  # two steps each, each submitted once
    # The steps of the three turns were gathered into shared provider batches, not one per step.
    state = fresh_emulator.app.state
    assert len(state.openai_batches.newest_first()) + len(state.anthropic_batches.newest_first()) < 6


@pytest.mark.parametrize("model", MODELS)
def test_errors_and_expiries_are_resubmitted_then_end_terminal(
    lane: Letta, fresh_emulator: EmulatorThread, model: str
) -> None:
    agents = [lane.agents.create(model=model).id for _ in range(4)]
    scripts = ["[[expire]] late", "[[error:500]] flaky", "[[error:400]] refused", "fine"]
    batch = lane.batches.create(
        requests=[{"agent_id": a, "input": s} for a, s in zip(agents, scripts, strict=True)], extra_body=LANE
    )

    done = _finished(lane, batch.id)

    items = _items(lane, batch.id)
    assert done.status == "completed"
    assert [(i["status"], i["stop_reason"]) for i in items] == [
        ("errored", "llm_api_error"),
        ("errored", "llm_api_error"),
        ("errored", "llm_api_error"),
        ("succeeded", "end_turn"),
    ]
    assert "expired" in items[0]["error"] and "2 times" in items[0]["error"]
    assert "2 times" in items[1]["error"]
    assert "400" in items[2]["error"] or "invalid_request" in items[2]["error"]
    # attempts: one claim, plus one resubmission for the transient failures; none for the refusal.
    assert [i["attempts"] for i in items] == [2, 2, 1, 1]
    custom_ids = _submitted_custom_ids(fresh_emulator)
    assert len(custom_ids) == len(set(custom_ids))  # every (item, step, attempt) went out once
    per_step = Counter(custom_id.rsplit("-", 1)[0] for custom_id in custom_ids)
    assert sorted(per_step.values()) == [1, 1, 2, 2]  # the refused one is not sent again
    assert _direct_calls(fresh_emulator) == 0


def test_cancel_during_an_open_provider_batch_cancels_it_at_the_provider(
    database_url: str, emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmulatorThread(EmulatorConfig(batch_delay_s=30)) as slow:
        point_sdks_at(monkeypatch, slow)
        settings = live_settings(
            database_url, lane_gather_window_s=0.05, lane_poll_min_s=0.05, lane_poll_max_s=0.3
        )
        with ServerThread(settings) as server:
            client = Letta(base_url=server.base_url, max_retries=0)
            agents = [client.agents.create(model="openai/gpt-4o-mini").id for _ in range(2)]
            batch = client.batches.create(
                requests=[{"agent_id": a, "input": "slow"} for a in agents], extra_body=LANE
            )
            wait_for(lambda: slow.app.state.openai_batches.newest_first(), what="the provider batch")

            client.batches.cancel(batch.id)

            wait_for(
                lambda: slow.app.state.openai_batches.newest_first()[0].status in ("cancelling", "cancelled"),
                timeout=10,
                what="the provider batch to be cancelled",
            )
            assert client.batches.retrieve(batch.id).status == "cancelled"
            assert [i["status"] for i in _items(client, batch.id)] == ["cancelled", "cancelled"]
            assert _direct_calls(slow) == 0


def test_a_restart_while_a_provider_batch_is_open_re_attaches_without_resubmitting(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmulatorThread(EmulatorConfig(batch_delay_s=1.5)) as slow:
        point_sdks_at(monkeypatch, slow)
        settings = live_settings(
            database_url, lane_gather_window_s=0.05, lane_poll_min_s=0.05, lane_poll_max_s=0.3
        )
        with ServerThread(settings) as first:
            client = Letta(base_url=first.base_url, max_retries=0)
            agents = [client.agents.create(model="anthropic/claude-haiku-4-5").id for _ in range(3)]
            batch = client.batches.create(
                requests=[{"agent_id": a, "input": "[[tool:conversation_search]] q"} for a in agents],
                extra_body=LANE,
            )
            wait_for(lambda: slow.app.state.anthropic_batches.newest_first(), what="the provider batch")
        assert slow.app.state.anthropic_batches.newest_first()[0].processing_status == "in_progress"

        with ServerThread(settings) as second:
            client = Letta(base_url=second.base_url, max_retries=0)
            done = _finished(client, batch.id)
            assert [i["step_count"] for i in _items(client, batch.id)] == [2, 2, 2]

        assert done.status == "completed"
        custom_ids = _submitted_custom_ids(slow)
        assert len(custom_ids) == 6 and len(set(custom_ids)) == 6
        assert _step_lanes(database_url) == {"provider_batch": 6}


def _step_lanes(database_url: str) -> dict[str, int]:
    async def run() -> dict[str, int]:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                rows = await conn.execute(select(steps.c.lane, func.count()).group_by(steps.c.lane))
                return {row[0]: row[1] for row in rows}
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_an_unknown_dispatch_is_a_422_naming_it_and_writes_nothing(client: Letta) -> None:
    agent = client.agents.create(model="openai/gpt-4o-mini").id
    with pytest.raises(UnprocessableEntityError) as refused:
        client.batches.create(requests=[{"agent_id": agent, "input": "hi"}], extra_body={"dispatch": "cheap"})
    assert "dispatch" in str(refused.value.body)
    assert list(client.batches.list()) == []


def test_the_dispatch_default_comes_from_the_settings(database_url: str) -> None:
    settings = Settings(database_url=database_url, run_worker=False, provider_processes=0, dispatch="auto")
    with ServerThread(settings) as server:
        client = Letta(base_url=server.base_url, max_retries=0)
        agent = client.agents.create(model="openai/gpt-4o-mini").id
        default = client.batches.create(requests=[{"agent_id": agent, "input": "hi"}])
        chosen = client.batches.create(
            requests=[{"agent_id": agent, "input": "hi"}], extra_body={"dispatch": "direct"}
        )
        assert (default.model_extra or {})["dispatch"] == "auto"
        assert (client.batches.retrieve(chosen.id).model_extra or {})["dispatch"] == "direct"


@pytest.mark.parametrize(("window", "lane_expected"), [("30s", False), ("24h", True)])
def test_auto_takes_the_lane_only_when_the_window_leaves_room_for_it(
    lane: Letta, fresh_emulator: EmulatorThread, window: str, lane_expected: bool
) -> None:
    agents = [lane.agents.create(model="openai/gpt-4o-mini").id for _ in range(2)]
    batch = lane.batches.create(
        requests=[{"agent_id": a, "input": "[[tool:conversation_search]] q"} for a in agents],
        extra_body={"dispatch": "auto", "completion_window": window},
    )

    done = _finished(lane, batch.id)

    assert done.status == "completed"
    assert [i["step_count"] for i in _items(lane, batch.id)] == [2, 2]
    # The expected turnaround (600 s by default) does not fit in 30 s: every step went direct.
    assert (_direct_calls(fresh_emulator) == 0) is lane_expected
    assert (len(_submitted_custom_ids(fresh_emulator)) == 4) is lane_expected


def test_a_lane_quota_makes_work_wait_not_fail(
    sqlite_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_sdks_at(monkeypatch, fresh_emulator)
    providers = tmp_path / "providers.toml"
    providers.write_text('[lane_quotas."openai/gpt-4o-mini"]\nmax_open_requests = 2\n')
    settings = live_settings(
        sqlite_url,
        providers_file=providers,
        lane_gather_window_s=0.05,
        lane_poll_min_s=0.05,
        lane_poll_max_s=0.3,
    )
    with ServerThread(settings) as server:
        client = Letta(base_url=server.base_url, max_retries=0)
        agents = [client.agents.create(model="openai/gpt-4o-mini").id for _ in range(5)]
        batch = client.batches.create(
            requests=[{"agent_id": a, "input": "hi"} for a in agents], extra_body=LANE
        )
        done = _finished(client, batch.id)
        assert [i["status"] for i in _items(client, batch.id)] == ["succeeded"] * 5

    assert done.status == "completed"
    opened = fresh_emulator.app.state.openai_batches.newest_first()
    assert len(opened) >= 3 and all(len(b.lines) <= 2 for b in opened)  # never more than 2 open at once
    assert _direct_calls(fresh_emulator) == 0


def test_provider_batch_for_a_provider_without_a_batch_api_is_a_422_at_create_naming_it(
    database_url: str, tmp_path: Path
) -> None:
    providers = tmp_path / "providers.toml"
    providers.write_text('[providers.vllm]\nbase_url = "http://127.0.0.1:9/v1"\n')
    settings = Settings(
        database_url=database_url, run_worker=False, provider_processes=0, providers_file=providers
    )
    with ServerThread(settings) as server:
        client = Letta(base_url=server.base_url, max_retries=0)
        local = client.agents.create(model="vllm/llama-3.1-8b").id
        hosted = client.agents.create(model="openai/gpt-4o-mini").id
        requests = [{"agent_id": hosted, "input": "hi"}, {"agent_id": local, "input": "hi"}]

        with pytest.raises(UnprocessableEntityError) as refused:
            client.batches.create(requests=requests, extra_body=LANE)

        detail = str(refused.value.body)
        assert local in detail and "'vllm'" in detail and "no batch API" in detail
        assert hosted not in detail
        assert list(client.batches.list()) == []  # nothing written
        # auto accepts them (such agents run direct); so does direct.
        auto = client.batches.create(requests=requests, extra_body={"dispatch": "auto"})
        assert (auto.model_extra or {})["dispatch"] == "auto"
