"""With AGENTBATCH_API_KEYS set, every call needs a key and each key sees only its own things."""

from collections.abc import Iterator

import pytest
from letta_client import AuthenticationError, Letta, NotFoundError

from agentbatch.server import ServerThread
from agentbatch.settings import Settings

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def keyed_server(database_url: str) -> Iterator[ServerThread]:
    with ServerThread(
        Settings(
            database_url=database_url, api_keys="key-alice, key-bob", run_worker=False, provider_processes=0
        )
    ) as running:
        yield running


def test_calls_without_a_known_key_are_401(keyed_server: ServerThread) -> None:
    with pytest.raises(AuthenticationError):
        Letta(base_url=keyed_server.base_url, max_retries=0).agents.list().items  # noqa: B018
    with pytest.raises(AuthenticationError):
        Letta(base_url=keyed_server.base_url, api_key="key-mallory", max_retries=0).batches.list().items  # noqa: B018


def test_each_key_sees_only_its_own_agents_and_batches(keyed_server: ServerThread) -> None:
    alice = Letta(base_url=keyed_server.base_url, api_key="key-alice", max_retries=0)
    bob = Letta(base_url=keyed_server.base_url, api_key="key-bob", max_retries=0)
    agent = alice.agents.create(model=MODEL)
    batch = alice.batches.create(requests=[{"agent_id": agent.id, "input": "hi"}])

    assert batch.created_by_id == agent.created_by_id and batch.created_by_id is not None
    assert [a.id for a in alice.agents.list()] == [agent.id]
    assert list(bob.agents.list()) == [] and list(bob.batches.list()) == []
    with pytest.raises(NotFoundError):
        bob.agents.retrieve(agent.id)
    with pytest.raises(NotFoundError):
        bob.batches.retrieve(batch.id)
    with pytest.raises(NotFoundError):
        bob.batches.cancel(batch.id)
    with pytest.raises(NotFoundError):
        bob.batches.create(requests=[{"agent_id": agent.id, "input": "mine now"}])
    assert alice.batches.retrieve(batch.id).status == "created"
