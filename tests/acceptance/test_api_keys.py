"""With AGENTBATCH_API_KEYS set, every call needs a key and each key sees only its own things."""

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from letta_client import AuthenticationError, Letta, NotFoundError
from sqlalchemy import select
from typer.testing import CliRunner

from agentbatch.cli.main import app as cli
from agentbatch.server import ServerThread
from agentbatch.settings import Settings
from agentbatch.store.database import Database
from agentbatch.store.tables import api_keys

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


# --- Keys as data: `agentbatch keys create|list|revoke` on the server's own database ---


def _keys(database_url: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["keys", *args], env={"AGENTBATCH_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    return result


def _created_key(database_url: str, name: str) -> tuple[str, str]:
    """(key id, the key itself) from `agentbatch keys create`."""
    fields = dict(
        line.split(":", 1) for line in _keys(database_url, "create", "--name", name).stdout.splitlines()
    )
    return fields["id"].strip(), fields["api key"].strip()


def _until(condition: Callable[[], bool], seconds: float = 5.0) -> float:
    """Poll until ``condition`` holds; how long it took. Fails after ``seconds``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "the condition did not come true in time"
        time.sleep(0.05)
    return time.monotonic() - started


def _refused(base_url: str, api_key: str | None) -> bool:
    try:
        Letta(base_url=base_url, api_key=api_key, max_retries=0).agents.list().items  # noqa: B018
    except AuthenticationError:
        return True
    return False


@pytest.fixture
def open_server(database_url: str) -> Iterator[ServerThread]:
    with ServerThread(Settings(database_url=database_url, run_worker=False, provider_processes=0)) as running:
        yield running


def test_keys_from_the_cli_turn_auth_on_and_each_tenant_sees_only_its_own(
    open_server: ServerThread, database_url: str
) -> None:
    assert not _refused(open_server.base_url, None)  # no key anywhere: open, as Letta's local server is

    alice_id, alice_key = _created_key(database_url, "alice")
    _bob_id, bob_key = _created_key(database_url, "bob")
    _until(lambda: _refused(open_server.base_url, None))

    alice = Letta(base_url=open_server.base_url, api_key=alice_key, max_retries=0)
    bob = Letta(base_url=open_server.base_url, api_key=bob_key, max_retries=0)
    agent = alice.agents.create(model=MODEL)
    batch = alice.batches.create(requests=[{"agent_id": agent.id, "input": "hi"}])
    assert [a.id for a in alice.agents.list()] == [agent.id]
    assert list(bob.agents.list()) == [] and list(bob.batches.list()) == []
    with pytest.raises(NotFoundError):
        bob.agents.retrieve(agent.id)
    with pytest.raises(NotFoundError):
        bob.batches.retrieve(batch.id)

    listed = _keys(database_url, "list").stdout
    assert alice_id in listed and "alice" in listed and alice_key not in listed

    revoked = _keys(database_url, "revoke", alice_id).stdout
    assert alice_id in revoked
    waited = _until(lambda: _refused(open_server.base_url, alice_key))
    assert waited < 2.5
    assert not _refused(open_server.base_url, bob_key)
    assert alice_id not in _keys(database_url, "list").stdout
    assert "revoked" in _keys(database_url, "list", "--all").stdout


def test_a_new_key_for_an_existing_tenant_sees_its_things(
    open_server: ServerThread, database_url: str
) -> None:
    _first_id, first = _created_key(database_url, "laptop")
    _until(lambda: _refused(open_server.base_url, None))
    agent = Letta(base_url=open_server.base_url, api_key=first, max_retries=0).agents.create(model=MODEL)
    tenant = agent.created_by_id
    assert tenant is not None

    created = _keys(database_url, "create", "--tenant", tenant, "--name", "ci").stdout
    second = created.split("api key:")[1].strip()
    _until(lambda: not _refused(open_server.base_url, second))

    again = Letta(base_url=open_server.base_url, api_key=second, max_retries=0)
    assert [a.id for a in again.agents.list()] == [agent.id]


async def test_only_the_digest_of_a_key_is_stored(database_url: str) -> None:
    key_id, secret = await asyncio.to_thread(_created_key, database_url, "vault")
    db = Database(database_url)
    try:
        async with db.read() as conn:
            rows = (await conn.execute(select(api_keys))).mappings().all()
    finally:
        await db.dispose()

    assert [row["id"] for row in rows] == [key_id]
    assert secret not in {str(value) for value in rows[0].values()}
    assert rows[0]["key_digest"] == hashlib.sha256(secret.encode()).hexdigest()


def test_revoking_an_unknown_key_fails_clearly(database_url: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["keys", "revoke", "key-00000000-0000-4000-8000-000000000000"],
        env={"AGENTBATCH_DATABASE_URL": database_url},
    )
    assert result.exit_code == 1 and "no key has the id" in result.output


def test_environment_keys_and_stored_keys_work_side_by_side(database_url: str) -> None:
    _key_id, stored = _created_key(database_url, "stored")
    settings = Settings(database_url=database_url, api_keys="key-env", run_worker=False, provider_processes=0)
    with ServerThread(settings) as running:
        from_env = Letta(base_url=running.base_url, api_key="key-env", max_retries=0)
        from_db = Letta(base_url=running.base_url, api_key=stored, max_retries=0)
        agent = from_env.agents.create(model=MODEL)
        assert list(from_db.agents.list()) == []
        assert [a.id for a in from_env.agents.list()] == [agent.id]
        assert _refused(running.base_url, "key-unknown") and _refused(running.base_url, None)
