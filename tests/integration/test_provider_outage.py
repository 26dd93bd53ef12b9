"""Outages ride through: the model provider goes away mid-batch and comes back on the same port, and the
batch completes with nothing errored; an outage longer than the retry budget errors its items with an
error that says what happened."""

import time
from collections.abc import Iterator

import pytest
from letta_client import Letta

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings
from tests.acceptance.test_batch_engine import finished, items
from tests.support.live import point_sdks_at
from tests.support.polling import wait_for
from tests.support.processes import free_port

MODEL = "openai/gpt-4o-mini"
CONFIG = EmulatorConfig(latency_ms=150)
OUTAGE_S = 3.0


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EmulatorThread]]:
    """The emulator, restartable: the list holds the running instance (stopped ones are replaced)."""
    running = [EmulatorThread(CONFIG).__enter__()]
    point_sdks_at(monkeypatch, running[0])
    yield running
    running[-1].stop()


def test_a_batch_rides_through_a_provider_outage_with_no_errored_items(
    sqlite_url: str, provider: list[EmulatorThread]
) -> None:
    settings = live_settings(
        sqlite_url, llm_retry_budget_s=60.0, llm_backoff_base_s=0.2, llm_backoff_max_s=1.0, lease_seconds=30.0
    )
    with ServerThread(settings) as server:
        client = Letta(base_url=server.base_url, max_retries=0)
        agents = [client.agents.create(model=MODEL).id for _ in range(6)]
        script = "[[tool:conversation_search]] [[tool:conversation_search]] go"  # three calls per turn
        batch = client.batches.create(
            requests=[{"agent_id": agent, "input": f"{script} {n}"} for n in range(3) for agent in agents]
        )
        wait_for(
            lambda: any(item["status"] == "succeeded" for item in items(client, batch.id)),
            what="the batch to be under way",
        )

        port = provider[0].port
        provider[0].stop()  # the provider goes away: in-flight calls drop, new ones are refused
        time.sleep(OUTAGE_S)  # the outage itself (a length of time, not a state to wait for)
        during = client.batches.retrieve(batch.id)
        provider.append(EmulatorThread(CONFIG, port=port).__enter__())  # back, on the same port

        done = finished(client, batch.id, timeout=90)
        found = items(client, batch.id)

    assert during.status == "running"  # the outage hit the batch mid-way
    assert done.status == "completed"
    assert [item["status"] for item in found] == ["succeeded"] * 18, [item["error"] for item in found]


def test_an_outage_longer_than_the_retry_budget_errors_naming_a_refused_connection(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")  # nobody listens there
    monkeypatch.setenv("OPENAI_API_KEY", "test-openai-key")
    settings = live_settings(
        sqlite_url, llm_retry_budget_s=1.0, llm_backoff_base_s=0.1, llm_backoff_max_s=0.4
    )
    with ServerThread(settings) as server:
        client = Letta(base_url=server.base_url, max_retries=0)
        agent = client.agents.create(model=MODEL).id
        batch = client.batches.create(requests=[{"agent_id": agent, "input": "hello"}])
        done = finished(client, batch.id, timeout=30)
        item = items(client, batch.id)[0]

    assert (done.status, done.stop_reason) == ("failed", "llm_api_error")  # its one request errored

    assert (item["status"], item["stop_reason"]) == ("errored", "llm_api_error")
    assert "connection refused" in item["error"] and "timed out" not in item["error"].lower()
    assert "gave up after" in item["error"] and "retry budget is 1 s" in item["error"]
