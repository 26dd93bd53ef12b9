"""``GET /metrics`` during and after a batch, parsed with prometheus_client's own parser."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from letta_client import Letta
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings
from tests.support.live import point_sdks_at, sdk_environment
from tests.support.polling import wait_for
from tests.support.processes import AgentbatchProcess, free_port

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def server(
    sqlite_url: str, emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerThread]:
    point_sdks_at(monkeypatch, emulator)
    with ServerThread(live_settings(sqlite_url)) as running:
        yield running


def _scrape(base_url: str) -> dict[str, list[Sample]]:
    response = httpx.get(f"{base_url}/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(
        s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_show_a_batch_while_it_runs_and_after(server: ServerThread) -> None:
    client = Letta(base_url=server.base_url, max_retries=0)
    cost_before = _value(
        _scrape(server.base_url).get("agentbatch_cost_usd", []),
        "agentbatch_cost_usd_total",
        model=MODEL,
        lane="direct",
    )
    agents = [client.agents.create(model=MODEL).id for _ in range(3)]
    slow = client.agents.create(model=MODEL).id
    batch = client.batches.create(
        requests=[{"agent_id": agent, "input": "[[tool:conversation_search]] hi"} for agent in agents]
        + [{"agent_id": agents[0], "input": "[[error:400:always]] doomed"}]
        + [{"agent_id": slow, "input": "[[sleep:1500]] slow"}]
    )

    during = wait_for(
        lambda: (
            (m := _scrape(server.base_url))
            and _value(m["agentbatch_items"], "agentbatch_items", status="running") >= 1
            and m
        ),
        what="a running item in /metrics",
    )
    assert (
        _value(during["agentbatch_batches_unfinished"], "agentbatch_batches_unfinished", status="running")
        == 1
    )
    total = sum(s.value for s in during["agentbatch_items"])
    assert total == 5, "every item of the running batch is counted in some status"

    wait_for(lambda: client.batches.retrieve(batch.id).status == "completed", what="the batch to end")
    after = _scrape(server.base_url)
    steps = after["agentbatch_steps"]
    assert _value(steps, "agentbatch_steps_total", provider="openai", model=MODEL, lane="direct") >= 7
    calls = after["agentbatch_provider_calls"]
    assert _value(calls, "agentbatch_provider_calls_total", provider="openai", outcome="ok") >= 7
    assert any(s.labels.get("outcome") not in (None, "ok") for s in calls if s.value > 0), (
        "the 400 is counted"
    )
    latency = after["agentbatch_provider_call_seconds"]
    assert _value(latency, "agentbatch_provider_call_seconds_count", provider="openai") >= 8
    assert _value(latency, "agentbatch_provider_call_seconds_bucket", provider="openai", le="+Inf") >= 8
    tokens = after["agentbatch_tokens"]
    assert _value(tokens, "agentbatch_tokens_total", kind="prompt") > 0
    finished = after["agentbatch_items_finished"]
    assert _value(finished, "agentbatch_items_finished_total", status="errored") >= 1
    assert after["agentbatch_items"] and all(s.value == 0 for s in after["agentbatch_items"])
    assert "agentbatch_queue_depth" in after and "agentbatch_lease_expiries" in after
    assert "agentbatch_callback_attempts" in after
    cost = _value(after["agentbatch_cost_usd"], "agentbatch_cost_usd_total", model=MODEL, lane="direct")
    batch_cost = float(client.batches.retrieve(batch.id).model_extra["cost"]["total"])
    assert batch_cost > 0
    assert cost - cost_before == pytest.approx(batch_cost, abs=1e-9), "/metrics adds up to the ledger"


def test_a_worker_process_serves_its_own_metrics(tmp_path: Path, emulator: EmulatorThread) -> None:
    port = free_port()
    worker = AgentbatchProcess(
        ["worker", "--metrics-port", str(port)],
        {**sdk_environment(emulator), "AGENTBATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"},
        tmp_path / "worker.log",
    )
    with worker:

        def scrape() -> str | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
            except httpx.HTTPError:
                return None

        text = wait_for(scrape, timeout=180, what="the worker's metrics endpoint")
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"agentbatch_steps", "agentbatch_provider_calls", "agentbatch_lease_expiries"} <= names
    assert "metrics=http://0.0.0.0:" in worker.log_path.read_text()


def test_requests_ended_by_expiry_and_cancel_are_counted_as_finished(server: ServerThread) -> None:
    client = Letta(base_url=server.base_url, max_retries=0)
    agents = [client.agents.create(model=MODEL).id for _ in range(2)]
    finished = "agentbatch_items_finished_total"
    before = _scrape(server.base_url).get("agentbatch_items_finished", [])

    expiring = client.batches.create(
        requests=[{"agent_id": agents[0], "input": "[[sleep:20000]] too slow"}],
        extra_body={"completion_window": "1s"},
    )
    cancelled = client.batches.create(requests=[{"agent_id": agents[1], "input": "[[sleep:20000]] slow"}])
    client.batches.cancel(cancelled.id)
    wait_for(lambda: client.batches.retrieve(expiring.id).status == "expired", timeout=20, what="expiry")

    after = _scrape(server.base_url)["agentbatch_items_finished"]
    for status, reason in (("expired", ""), ("cancelled", "cancelled")):
        grown = _value(after, finished, status=status, stop_reason=reason) - _value(
            before, finished, status=status, stop_reason=reason
        )
        assert grown == 1, status
