"""Bad input gets a clear 4xx naming the problem, and nothing half-written stays behind."""

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from letta_client import Letta, NotFoundError, UnprocessableEntityError

from agentbatch.server import ServerThread
from agentbatch.settings import Settings

MODEL = "openai/gpt-4o-mini"


def _nothing_stored(client: Letta) -> bool:
    return list(client.batches.list()) == []


def test_a_batch_naming_an_unknown_agent_is_rejected_whole(client: Letta) -> None:
    real = client.agents.create(model=MODEL).id
    ghost = f"agent-{uuid.uuid4()}"

    with pytest.raises(NotFoundError) as raised:
        client.batches.create(requests=[{"agent_id": real, "input": "a"}, {"agent_id": ghost, "input": "b"}])

    assert ghost in str(raised.value) and "requests[1]" in str(raised.value)
    assert _nothing_stored(client)


@pytest.mark.parametrize(
    ("requests", "problem"),
    [
        ([], "requests"),
        ([{"agent_id": "agent-123", "input": "x"}], "agent_id"),
        ([{"agent_id": "{agent}"}], "exactly one of"),
        (
            [{"agent_id": "{agent}", "input": "x", "messages": [{"role": "user", "content": "y"}]}],
            "exactly one of",
        ),
        ([{"agent_id": "{agent}", "messages": [{"role": "wizard", "content": "y"}]}], "role"),
        ([{"agent_id": "{agent}", "messages": [{"role": "user"}]}], "content"),
        ([{"agent_id": "{agent}", "messages": []}], "messages"),
        ([{"agent_id": "{agent}", "input": "x", "max_steps": 0}], "max_steps"),
    ],
)
def test_malformed_requests_are_422_naming_the_field(
    client: Letta, requests: list[dict[str, Any]], problem: str
) -> None:
    agent = client.agents.create(model=MODEL).id
    body = [
        {key: (agent if value == "{agent}" else value) for key, value in request.items()}
        for request in requests
    ]

    with pytest.raises(UnprocessableEntityError) as raised:
        client.batches.create(requests=body)  # type: ignore[arg-type]

    assert problem in str(raised.value)
    assert isinstance(raised.value.body, dict) and isinstance(raised.value.body["detail"], list)
    assert _nothing_stored(client)


def test_a_bad_callback_url_is_rejected(client: Letta) -> None:
    agent = client.agents.create(model=MODEL).id
    with pytest.raises(UnprocessableEntityError, match="callback_url"):
        client.batches.create(requests=[{"agent_id": agent, "input": "x"}], callback_url="ftp://nowhere")
    assert _nothing_stored(client)


@pytest.fixture
def small_limit_server(sqlite_url: str) -> Iterator[ServerThread]:
    with ServerThread(
        Settings(database_url=sqlite_url, max_body_bytes=4096, run_worker=False, provider_processes=0)
    ) as running:
        yield running


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(small_limit_server: ServerThread) -> None:
    client = Letta(base_url=small_limit_server.base_url, max_retries=0)
    agent = client.agents.create(model=MODEL).id
    huge = [{"agent_id": agent, "input": "x" * 100} for _ in range(100)]

    declared = httpx.post(f"{small_limit_server.base_url}/v1/messages/batches", json={"requests": huge})
    streamed = httpx.post(
        f"{small_limit_server.base_url}/v1/messages/batches",
        content=iter([httpx.Request("POST", "/", json={"requests": huge}).read()]),
        headers={"content-type": "application/json"},
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert "larger than the limit of 4096 bytes" in response.json()["detail"]
    assert list(client.batches.list()) == []
