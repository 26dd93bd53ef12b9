"""The results ledger through real HTTP: ``custom_id`` per request (validated whole, nothing written on a
bad one), shown on ``/items``; ``GET …/results`` as JSON Lines while the batch runs and after it ended;
``?follow=true`` streaming each request as it finishes until the batch ends; owner scoping."""

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from letta_client import Letta, UnprocessableEntityError

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from agentbatch.settings import Settings
from tests.acceptance.conftest import live_settings
from tests.support.live import point_sdks_at
from tests.support.polling import wait_for

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def ledger_server(
    database_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerThread]:
    """API + worker on SQLite and PostgreSQL, providers at the emulator, followers polling quickly."""
    point_sdks_at(monkeypatch, fresh_emulator)
    with ServerThread(live_settings(database_url, results_poll_s=0.05)) as running:
        yield running


@pytest.fixture
def ledger(ledger_server: ServerThread) -> Letta:
    return Letta(base_url=ledger_server.base_url, max_retries=0, _strict_response_validation=True)


def items(client: Letta, batch_id: str) -> list[dict[str, Any]]:
    found = client.get(f"/v1/messages/batches/{batch_id}/items?order=asc&limit=1000", cast_to=object)
    assert isinstance(found, list)
    return found


def results(base_url: str, batch_id: str, **params: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base_url}/v1/messages/batches/{batch_id}/results", params=params, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return [orjson.loads(line) for line in response.content.splitlines()]


def test_custom_ids_are_validated_whole_and_shown_on_items(client: Letta) -> None:
    agent = client.agents.create(model=MODEL, name="a").id
    refusals = {
        "has space": "custom_id",
        "x" * 65: "custom_id",
        "": "custom_id",
        "ünïcode": "custom_id",
    }
    for custom_id, named in refusals.items():
        with pytest.raises(UnprocessableEntityError) as refused:
            client.batches.create(requests=[{"agent_id": agent, "input": "x", "custom_id": custom_id}])
        assert named in str(refused.value.body)
    duplicate = [{"agent_id": agent, "input": "x", "custom_id": cid} for cid in ("a", "b", "a")]
    with pytest.raises(UnprocessableEntityError) as refused:
        client.batches.create(requests=duplicate)
    assert "requests[2].custom_id: duplicate of requests[0]" in str(refused.value.body)
    assert list(client.batches.list()) == []  # nothing written

    batch = client.batches.create(
        requests=[
            {"agent_id": agent, "input": "x", "custom_id": "row-1_A"},
            {"agent_id": agent, "input": "y"},
            {"agent_id": agent, "input": "z", "custom_id": "x" * 64},
        ]
    )
    assert [item["custom_id"] for item in items(client, batch.id)] == ["row-1_A", None, "x" * 64]


def test_results_list_finished_requests_while_running_and_every_request_after(
    ledger: Letta, ledger_server: ServerThread
) -> None:
    agents = [ledger.agents.create(model=MODEL, name=f"a{i}").id for i in range(4)]
    scripts = [
        ("quick", "[[reply:first answer]] hi"),
        ("slow", "[[sleep:4000]][[reply:late answer]] go"),
        ("tools", "[[tool:conversation_search]][[reply:found it]] look"),
        ("doomed", "[[error:400:always]] fail"),
    ]
    batch = ledger.batches.create(
        requests=[
            {"agent_id": agent, "input": text, "custom_id": custom_id}
            for agent, (custom_id, text) in zip(agents, scripts, strict=True)
        ]
    )
    wait_for(
        lambda: (
            [item["status"] for item in items(ledger, batch.id)]
            == ["succeeded", "running", "succeeded", "errored"]
        ),
        timeout=20,
        what="all but the slow request to end",
    )

    running = results(ledger_server.base_url, batch.id)
    assert [line["custom_id"] for line in running] == ["quick", "tools", "doomed"]
    quick, tools, doomed = running
    assert quick["text"] == "first answer" and tools["text"] == "found it"
    assert quick["status"] == "succeeded" and quick["stop_reason"] == "end_turn"
    assert tools["usage"]["step_count"] == 2 and tools["usage"]["total_tokens"] > 0
    assert tools["lane"] == "direct" and tools["attempts"] == 1 and tools["error"] is None
    assert tools["cost"]["total"] == items(ledger, batch.id)[2]["cost"]["total"]
    assert doomed["status"] == "errored" and "400" in doomed["error"] and doomed["text"] is None
    written = list(ledger.batches.messages.list(batch.id, agent_id=agents[2], limit=100))
    assert set(tools["message_ids"]) == {m.id for m in written} and len(tools["message_ids"]) >= 4

    wait_for(lambda: ledger.batches.retrieve(batch.id).status == "completed", timeout=20, what="the end")
    after = results(ledger_server.base_url, batch.id)
    assert [line["custom_id"] for line in after] == ["quick", "slow", "tools", "doomed"]
    assert after[1]["text"] == "late answer" and after[0] == quick


def test_follow_streams_each_request_as_it_finishes_and_closes_when_the_batch_ends(
    ledger: Letta, ledger_server: ServerThread
) -> None:
    agents = [ledger.agents.create(model=MODEL, name=f"a{i}").id for i in range(3)]
    delays = {"late": 2500, "soon": 0, "middle": 1200}
    batch = ledger.batches.create(
        requests=[
            {"agent_id": agent, "input": f"[[sleep:{ms}]] {cid}", "custom_id": cid}
            for agent, (cid, ms) in zip(agents, delays.items(), strict=True)
        ]
    )
    url = f"{ledger_server.base_url}/v1/messages/batches/{batch.id}/results"
    arrivals: list[tuple[str, float]] = []
    started = time.monotonic()
    with httpx.stream("GET", url, params={"follow": "true"}, timeout=30) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            arrivals.append((orjson.loads(line)["custom_id"], time.monotonic() - started))
    closed = time.monotonic() - started

    assert sorted(custom_id for custom_id, _ in arrivals) == ["late", "middle", "soon"]
    assert arrivals[0][0] == "soon" and arrivals[-1][0] == "late"  # in the order they finished
    assert arrivals[0][1] < arrivals[2][1] - 0.5  # the first line came well before the last request ended
    assert ledger.batches.retrieve(batch.id).status == "completed"
    assert closed < 15
    assert results(ledger_server.base_url, batch.id, follow="true") == results(
        ledger_server.base_url, batch.id
    )


def test_results_are_owner_scoped(database_url: str) -> None:
    settings = Settings(database_url=database_url, run_worker=False, provider_processes=0, api_keys="k1,k2")
    with ServerThread(settings) as server:
        mine = Letta(base_url=server.base_url, api_key="k1", max_retries=0)
        agent = mine.agents.create(model=MODEL, name="a").id
        batch = mine.batches.create(requests=[{"agent_id": agent, "input": "x"}])
        url = f"{server.base_url}/v1/messages/batches/{batch.id}/results"
        assert httpx.get(url, headers={"Authorization": "Bearer k1"}).text == ""  # nothing finished yet
        theirs = httpx.get(url, headers={"Authorization": "Bearer k2"})
        assert theirs.status_code == 404 and batch.id in theirs.text
        unknown = url.replace(batch.id, "job-00000000-0000-4000-8000-000000000000")
        assert httpx.get(unknown, headers={"Authorization": "Bearer k1"}).status_code == 404


def test_follow_gives_up_after_its_maximum_wait(
    sqlite_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, fresh_emulator)
    settings = live_settings(sqlite_url, results_poll_s=0.05, results_follow_max_s=0.5)
    with ServerThread(settings) as server:
        client = Letta(base_url=server.base_url, max_retries=0)
        agents = [client.agents.create(model=MODEL, name=f"a{i}").id for i in range(2)]
        batch = client.batches.create(
            requests=[
                {"agent_id": agents[0], "input": "quick", "custom_id": "quick"},
                {"agent_id": agents[1], "input": "[[sleep:3000]] slow", "custom_id": "slow"},
            ]
        )
        wait_for(lambda: items(client, batch.id)[0]["status"] == "succeeded", what="the quick request")
        started = time.monotonic()
        lines = results(server.base_url, batch.id, follow="true")
        assert time.monotonic() - started < 2.5  # closed at its maximum wait, not at the batch's end
        assert [line["custom_id"] for line in lines] == ["quick"]
        client.batches.cancel(batch.id)
