"""A deployment as real processes, and a chaos driver that SIGKILLs and restarts them under load.

- SQLite: one ``serve`` (API and worker in one process, as on a laptop).
- PostgreSQL: one ``serve --no-worker`` and N ``worker`` processes sharing the database.

``run_chaos`` keeps a few hundred multi-step requests flowing (a new wave of batches whenever the last
one ended), kills a random process once work is under way, restarts it at once, and stops killing after
``kills`` kills; then it waits for every batch to end with every process alive, and returns what it did.
"""

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from letta_client import Letta

from tests.support.audit import running_items
from tests.support.polling import wait_for
from tests.support.processes import AgentbatchProcess, free_port

# Three steps per request: two tool calls, then the reply. The sleep makes each step long enough for a
# kill to land between two steps, not only between two turns.
STEPS_PER_REQUEST = 3


def script(n: int, sleep_ms: int = 150) -> str:
    return f"[[tool:conversation_search]] [[tool:conversation_search]] [[sleep:{sleep_ms}]] request {n}"


class Cluster:
    """One deployment: ``api`` answers HTTP; ``processes`` are everything a chaos run may kill."""

    def __init__(self, database_url: str, env: dict[str, str], log_dir: Path, *, workers: int = 0) -> None:
        self.database_url = database_url
        port = free_port()
        env = {
            "AGENTBATCH_DATABASE_URL": database_url,
            "AGENTBATCH_LEASE_SECONDS": "2",
            "AGENTBATCH_CLAIM_POLL_S": "0.05",
            "AGENTBATCH_PROVIDER_PROCESSES": "0",  # a SIGKILL leaves no orphaned provider child behind
            **env,
        }
        serve = ["serve", "--port", str(port), *(["--no-worker"] if workers else [])]
        self.api = AgentbatchProcess(serve, env, log_dir / "api.log", port)
        self.workers = [
            AgentbatchProcess(["worker"], env, log_dir / f"worker{i}.log") for i in range(workers)
        ]
        self.processes = [self.api, *self.workers]

    def start(self) -> "Cluster":
        for process in self.processes:
            process.start()
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log_path.read_text()[-tail:]}" for p in self.processes)

    @contextmanager
    def running(self) -> Iterator["Cluster"]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


@dataclass
class ChaosRun:
    requests: int = 0
    kills: int = 0
    batch_ids: list[str] = field(default_factory=list)
    agent_ids: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    running_at_kill: list[int] = field(default_factory=list)
    victims: dict[str, int] = field(default_factory=dict)


def run_chaos(
    cluster: Cluster,
    provider_calls: Callable[[], int],
    *,
    agents: int,
    min_requests: int,
    kills: int,
    seed: int,
    finish_timeout: float = 120,
) -> ChaosRun:
    """Submit waves of two requests per agent until ``min_requests`` went in and ``kills`` kills are done;
    each kill waits for a few provider calls since the last restart, then a random pause, then SIGKILL."""
    rng = random.Random(seed)
    client = Letta(base_url=cluster.api.base_url, max_retries=5)
    run = ChaosRun()
    run.agent_ids = [client.agents.create(model="openai/gpt-4o-mini").id for _ in range(agents)]
    while run.kills < kills or run.requests < min_requests:
        if run.requests < min_requests or _all_ended(client, run.batch_ids):
            _submit_wave(client, run)
        if run.kills >= kills:
            continue
        wait_for(
            _calls_beyond(provider_calls, provider_calls() + 3),
            timeout=300,
            interval=0.05,
            what="work after a restart",
        )
        time.sleep(rng.uniform(0, 0.6))  # chaos timing: anywhere inside a step, a commit or a claim
        victim = rng.choice(cluster.processes)
        run.running_at_kill.append(len(running_items(cluster.database_url)))
        victim.kill_hard()
        victim.start()
        run.kills += 1
        run.victims[victim.log_path.stem] = run.victims.get(victim.log_path.stem, 0) + 1
    try:
        wait_for(
            lambda: _all_ended(client, run.batch_ids),
            timeout=finish_timeout,
            interval=0.25,
            what="every batch to end after the last kill, every process alive",
        )
    except AssertionError as stuck:
        held = running_items(cluster.database_url)
        raise AssertionError(
            f"{stuck}; items still running (item, lease owner): {held}\n{cluster.logs()}"
        ) from None
    return run


def _calls_beyond(provider_calls: Callable[[], int], enough: int) -> Callable[[], bool]:
    return lambda: provider_calls() >= enough


def _submit_wave(client: Letta, run: ChaosRun) -> None:
    requests = []
    for _ in range(2):
        for agent_id in run.agent_ids:
            text = script(len(run.inputs))
            run.inputs.append(text)
            requests.append({"agent_id": agent_id, "input": text})
    run.batch_ids.append(client.batches.create(requests=requests).id)
    run.requests += len(requests)


def _all_ended(client: Letta, batch_ids: list[str]) -> bool:
    return all(client.batches.retrieve(batch_id).status in ("completed", "failed") for batch_id in batch_ids)


def request_count_problems(client: Letta, batch_ids: list[str], succeeded_items: dict[str, int]) -> list[str]:
    """Each batch's request_counts against its items: every request succeeded, the counts add up."""
    problems = []
    for batch_id in batch_ids:
        batch = client.batches.retrieve(batch_id)
        counts = dict((batch.model_extra or {}).get("request_counts") or {})
        total = counts.pop("total", None)
        if batch.status != "completed" or counts.get("succeeded") != succeeded_items.get(batch_id):
            problems.append(
                f"batch {batch_id}: {batch.status}, counts {counts}, {succeeded_items.get(batch_id)} ok"
            )
        if total != sum(counts.values()) or counts.get("pending") or counts.get("running"):
            problems.append(f"batch {batch_id}: counts do not add up to total {total}: {counts}")
    return problems
