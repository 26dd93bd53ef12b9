"""Workers on three test hosts (network namespaces) share one PostgreSQL across a real network hop.
One host is cut off mid-batch (its link dropped, its process alive): the others finish its items once its
leases expire, and when its link comes back it writes nothing twice (its late commits are fenced off)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from letta_client import Letta
from sqlalchemy import select

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from agentbatch.store.tables import batch_items, steps, workers
from tests.support.audit import audit, query, running_items
from tests.support.databases import PostgresTemplate
from tests.support.network_hosts import HostNetwork, NetHost, can_make_hosts
from tests.support.polling import wait_for
from tests.support.processes import AgentbatchProcess, free_port
from tests.support.tcp_forwarder import TcpForwarder

LEASE_S = 3
HOSTS = 3
STEPS = 2
SCRIPT = "[[tool:conversation_search]] [[sleep:600]] machine {n}"


@pytest.fixture
def network() -> Iterator[HostNetwork]:
    why_not = can_make_hosts()
    if why_not:
        pytest.skip(why_not)
    made = HostNetwork()
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def shared_postgres(postgres_template: PostgresTemplate | None) -> Iterator[str]:
    if postgres_template is None:
        pytest.skip("PostgreSQL is not reachable")
    url = postgres_template.clone()
    yield url
    postgres_template.drop(url)


def _over(url: str, host: str, port: int) -> str:
    """The same database, reached at host:port."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}:{port}{parts.path}"


def _worker_id(database_url: str, pid: int) -> str | None:
    (rows,) = query(database_url, select(workers.c.id).where(workers.c.pid == pid))
    return rows[0][0] if rows else None


@pytest.mark.chaos
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_host_cut_off_mid_batch_loses_its_items_to_the_others_and_writes_nothing_twice(
    network: HostNetwork, shared_postgres: str, tmp_path: Path
) -> None:
    pg = urlsplit(shared_postgres)
    hosts = [network.add_host() for _ in range(HOSTS)]
    with (
        TcpForwarder(network.gateway, pg.hostname or "127.0.0.1", pg.port or 5432) as forwarder,
        EmulatorThread(EmulatorConfig(), host=network.gateway) as emulator,
    ):
        env = {
            "OPENAI_BASE_URL": f"{emulator.base_url}/v1",
            "OPENAI_API_KEY": "test-openai-key",
            "AGENTBATCH_LEASE_SECONDS": str(LEASE_S),
            "AGENTBATCH_CLAIM_POLL_S": "0.05",
            "AGENTBATCH_PROVIDER_PROCESSES": "0",
            "AGENTBATCH_TURNS_PER_MODEL": "8",
        }
        remote_url = _over(shared_postgres, network.gateway, forwarder.port)
        port = free_port()
        api = AgentbatchProcess(
            ["serve", "--port", str(port), "--no-worker"],
            {**env, "AGENTBATCH_DATABASE_URL": shared_postgres},
            tmp_path / "api.log",
            port,
        )
        machines = [
            AgentbatchProcess(
                ["worker"],
                {**env, "AGENTBATCH_DATABASE_URL": remote_url},
                tmp_path / f"host{i}.log",
                prefix=host.prefix,
            )
            for i, host in enumerate(hosts)
        ]
        with api, machines[0], machines[1], machines[2]:
            _prove_the_cut(network, hosts, api, machines, shared_postgres, emulator)


def _registered(database_url: str, machines: list[AgentbatchProcess]) -> list[str] | None:
    """Each machine's worker id, once every one has registered."""
    found = [_worker_id(database_url, m.process.pid) if m.process else None for m in machines]
    return [w for w in found if w] if all(found) else None


def _prove_the_cut(
    network: HostNetwork,
    hosts: list[NetHost],
    api: AgentbatchProcess,
    machines: list[AgentbatchProcess],
    database_url: str,
    emulator: EmulatorThread,
) -> None:
    def logs() -> str:
        return "\n".join(f"--- {m.log_path.name}\n{m.log_path.read_text()[-2500:]}" for m in machines)

    ids: list[str] = wait_for(
        lambda: _registered(database_url, machines),
        timeout=300,
        interval=0.2,
        what="a worker on every host to register across the network",
    )
    victim, victim_id = machines[0], ids[0]
    client = Letta(base_url=api.base_url, max_retries=3)
    agents = [client.agents.create(model="openai/gpt-4o-mini").id for _ in range(36)]
    texts = [SCRIPT.format(n=n) for n in range(len(agents) * 2)]
    batch = client.batches.create(
        requests=[{"agent_id": agents[n % len(agents)], "input": text} for n, text in enumerate(texts)]
    )

    held = wait_for(
        lambda: [item for item, owner in running_items(database_url) if owner == victim_id],
        timeout=60,
        interval=0.05,
        what="the first host to hold items",
    )
    network.cut(hosts[0])
    cut_at = datetime.now(UTC)
    held = [item for item, owner in running_items(database_url) if owner == victim_id] or held

    def finished_by_others() -> bool:
        (rows,) = query(database_url, select(batch_items.c.status).where(batch_items.c.id.in_(held)))
        return all(row[0] == "succeeded" for row in rows)

    try:
        wait_for(
            finished_by_others,
            timeout=120,
            interval=0.25,
            what="the other hosts to finish the cut host's items",
        )
    except AssertionError as stuck:
        raise AssertionError(f"{stuck}; running {running_items(database_url)}\n{logs()}") from None
    assert victim.alive, "the cut host's worker must still be running: only its link was dropped"

    network.restore(hosts[0])
    restored_at = datetime.now(UTC)
    try:
        wait_for(
            lambda: client.batches.retrieve(batch.id).status == "completed",
            timeout=180,
            interval=0.25,
            what="the batch to complete",
        )
    except AssertionError as stuck:
        counts = (client.batches.retrieve(batch.id).model_extra or {}).get("request_counts")
        raise AssertionError(
            f"{stuck}; counts {counts}; workers {ids} (cut: {victim_id}); "
            f"running (item, lease owner) {running_items(database_url)}\n{logs()}"
        ) from None
    # the cut host is back: it reaches the database again (heartbeat after the restore) …
    wait_for(
        lambda: (
            query(database_url, select(workers.c.heartbeat_at).where(workers.c.id == victim_id))[0][0][0]
            > restored_at
        ),
        timeout=3 * LEASE_S + 30,
        interval=0.25,
        what="the cut host to reach the database again",
    )
    # … and it wrote nothing for the items it lost: each of their steps exactly once, by the others
    (late,) = query(
        database_url,
        select(steps.c.item_id, steps.c.step_no).where(
            steps.c.item_id.in_(held), steps.c.worker_id == victim_id, steps.c.created_at > cut_at
        ),
    )
    assert late == [], f"the cut host wrote steps of items taken from it: {late}"
    report = audit(database_url, expected_steps=dict.fromkeys(texts, STEPS))
    assert report.problems == [], report.problems
    assert report.steps == len(texts) * STEPS and report.statuses["succeeded"] == len(texts)
    assert emulator.app.state.stats.count("POST /v1/chat/completions", 200) >= len(texts) * STEPS
