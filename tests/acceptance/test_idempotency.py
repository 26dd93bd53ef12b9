"""``Idempotency-Key`` on batch create, through letta-client over real HTTP: a retry never makes a second
batch, a reused key with another body is refused, racing retries still make one batch."""

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from letta_client import Letta, UnprocessableEntityError

from agentbatch.server import ServerThread
from agentbatch.settings import Settings
from tests.support.polling import wait_for

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def agent_id(client: Letta) -> str:
    return client.agents.create(name="a", model=MODEL).id


def _create(client: Letta, agent_id: str, key: str, text: str = "hello") -> Any:
    return client.batches.with_raw_response.create(
        requests=[{"agent_id": agent_id, "input": text}], extra_headers={"Idempotency-Key": key}
    )


def test_a_retry_with_the_same_key_and_body_returns_the_same_batch(client: Letta, agent_id: str) -> None:
    first = _create(client, agent_id, "retry-1")
    again = _create(client, agent_id, "retry-1")

    assert again.parse().id == first.parse().id
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert first.headers.get("Idempotent-Replayed") is None
    assert [batch.id for batch in client.batches.list()] == [first.parse().id]


def test_the_same_body_with_keys_in_another_order_is_the_same_body(
    client: Letta, agent_id: str, server: ServerThread
) -> None:
    headers = {"Idempotency-Key": "ordered", "Content-Type": "application/json"}
    url = f"{server.base_url}/v1/messages/batches"
    one = httpx.post(
        url, headers=headers, content=f'{{"requests": [{{"agent_id": "{agent_id}", "input": "x"}}]}}'
    )
    two = httpx.post(
        url, headers=headers, content=f'{{ "requests" : [ {{"input":"x", "agent_id":"{agent_id}"}} ] }}'
    )
    assert one.status_code == two.status_code == 200
    assert one.json()["id"] == two.json()["id"]


def test_the_same_key_with_another_body_is_refused_naming_the_header(client: Letta, agent_id: str) -> None:
    original = _create(client, agent_id, "reused").parse()

    with pytest.raises(UnprocessableEntityError) as refused:
        _create(client, agent_id, "reused", text="something else")

    assert "Idempotency-Key" in str(refused.value.body) and original.id in str(refused.value.body)
    assert [batch.id for batch in client.batches.list()] == [original.id]


def test_different_keys_make_different_batches_and_malformed_keys_are_422s_naming_the_header(
    client: Letta, agent_id: str, server: ServerThread
) -> None:
    assert _create(client, agent_id, "k-1").parse().id != _create(client, agent_id, "k-2").parse().id
    for key in (b"", b"x" * 256, b"with space", "é".encode()):
        response = httpx.post(
            f"{server.base_url}/v1/messages/batches",
            headers={"Idempotency-Key": key},
            json={"requests": [{"agent_id": agent_id, "input": "x"}]},
        )
        assert response.status_code == 422, key
        assert "Idempotency-Key" in response.text
    assert len(list(client.batches.list())) == 2


def test_racing_retries_make_exactly_one_batch(client: Letta, agent_id: str, server: ServerThread) -> None:
    body = {"requests": [{"agent_id": agent_id, "input": f"turn {i}"} for i in range(200)]}
    barrier = threading.Barrier(6)
    ids: list[str] = []

    def post() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            barrier.wait()
            response = http.post("/v1/messages/batches", json=body, headers={"Idempotency-Key": "race"})
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"])

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(ids) == 6 and len(set(ids)) == 1
    batches = list(client.batches.list())
    assert [batch.id for batch in batches] == ids[:1]
    items = client.get(f"/v1/messages/batches/{ids[0]}/items?limit=1000", cast_to=object)
    assert isinstance(items, list) and len(items) == 200


@pytest.fixture
def short_memory_client(database_url: str) -> Iterator[Letta]:
    settings = Settings(
        database_url=database_url, run_worker=False, provider_processes=0, idempotency_key_retention_s=0.3
    )
    with ServerThread(settings) as running:
        yield Letta(base_url=running.base_url, max_retries=0)


def test_a_key_is_forgotten_after_its_retention(short_memory_client: Letta) -> None:
    client = short_memory_client
    agent = client.agents.create(name="a", model=MODEL).id
    first = _create(client, agent, "short").parse().id

    # While the key lives, each probe replays the first batch; once it has expired, the same request
    # makes a new batch, which the key then names.
    later = wait_for(
        lambda: (batch_id := _create(client, agent, "short").parse().id) != first and batch_id,
        timeout=10,
        interval=0.05,
        what="the key to expire",
    )
    assert _create(client, agent, "short").parse().id == later
