"""Engine throughput: steps/s at 0 ms emulated latency (SQLite; PostgreSQL with one and two workers), and
completion time at a fixed latency against the latency-bound limit, steps/s when each agent has a queue
of requests (its turns run one after another: every turn's end promotes the agent's next item), and
steps/s for long-lived agents (each with a long history already, a 16,000-token context window: a turn
loads only the newest messages that could fit, decision 0016).

The emulator and agentbatch (with its provider processes) run as separate processes, scheduled by the
OS (``PIN=1`` pins agentbatch to the first CPU and the emulator to the second instead). Run:

    .venv/bin/python benchmarks/engine_throughput.py [--agents 2000] \
        [--scenarios sqlite,pg1,pg2,latency,queued,long]
"""

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from agentbatch.cli.emulator_process import EmulatorProcess, free_port
from agentbatch.domain.ids import DEFAULT_USER_ID, IdPrefix, new_id
from agentbatch.domain.messages import Message, Role, text_part
from agentbatch.store import messages as message_store
from agentbatch.store.database import Database
from bench_support import create_postgres, drop_postgres, spawn_agentbatch, wait_healthy

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


@dataclass
class Outcome:
    scenario: str
    requests: int
    steps: int
    seconds: float
    accept_s: float
    note: str = ""
    ttft_s: float = 0.0

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds


def pin(pid: int, cpu_index: int) -> None:
    if len(CPUS) >= 2 and os.environ.get("PIN") == "1":
        os.sched_setaffinity(pid, {CPUS[cpu_index % len(CPUS)]})


@dataclass(frozen=True)
class History:
    url: str
    messages: int
    """Messages written into each agent's history before the batch."""


async def seed_histories(history: History, agent_ids: list[str]) -> None:
    """Give each agent ``history.messages`` messages (user and assistant in turn, ~100 characters each),
    written straight into the database beside the running server."""
    db = Database(history.url)
    now = datetime.now(UTC)
    try:
        for agent_id in agent_ids:
            written = [
                Message(
                    id=new_id(IdPrefix.MESSAGE),
                    agent_id=agent_id,
                    role=Role.USER if index % 2 == 0 else Role.ASSISTANT,
                    created_at=now,
                    content=[text_part(f"message {index} of a long conversation " + "lorem ipsum " * 6)],
                )
                for index in range(history.messages)
            ]
            async with db.write() as conn:
                await message_store.insert_messages(conn, DEFAULT_USER_ID, written)
    finally:
        await db.dispose()


def run_batch(
    base_url: str,
    agents: int,
    script: str,
    steps_per_request: int,
    scenario: str,
    per_agent: int = 1,
    history: History | None = None,
) -> Outcome:
    agent_body: dict[str, object] = {"model": "openai/bench", "include_base_tools": True}
    if history is not None:
        agent_body["llm_config"] = {
            "model": "bench",
            "model_endpoint_type": "openai",
            "context_window": 16_000,
        }
    with httpx.Client(base_url=base_url, timeout=300) as client:
        ids = [client.post("/v1/agents/", json=agent_body).json()["id"] for _ in range(agents)]
        if history is not None:
            asyncio.run(seed_histories(history, ids))
        requests = [{"agent_id": agent_id, "input": script} for _ in range(per_agent) for agent_id in ids]
        started = time.perf_counter()
        batch = client.post("/v1/messages/batches", json={"requests": requests}).raise_for_status().json()
        accept_s = time.perf_counter() - started
        while batch["status"] not in ("completed", "failed", "cancelled", "expired"):
            time.sleep(0.1)
            batch = client.get(f"/v1/messages/batches/{batch['id']}").json()
    created = datetime.fromisoformat(batch["created_at"])
    completed = datetime.fromisoformat(batch["completed_at"])
    steps = batch["usage"]["step_count"]
    assert steps == len(requests) * steps_per_request, (steps, batch["request_counts"])
    outcome = Outcome(scenario, len(requests), steps, (completed - created).total_seconds(), accept_s)
    outcome.ttft_s = (batch["ttft_ns"] or 0) / 1e9
    return outcome


def scenario(
    name: str,
    agents: int,
    workdir: Path,
    latency_ms: float,
    workers: int,
    url: str,
    per_agent: int = 1,
    history: History | None = None,
) -> Outcome:
    script = "[[tool:conversation_search]] benchmark turn"
    if history is not None:  # a search reads the whole history; these turns edit memory instead
        script = '[[tool:core_memory_append {"label": "human", "content": "."}]] benchmark turn'
    with EmulatorProcess(latency_ms=latency_ms) as emulator:
        pin_emulator(emulator)
        env = {
            **emulator.sdk_environment(),
            "AGENTBATCH_DATABASE_URL": url,
            "AGENTBATCH_LOG_LEVEL": "warning",
        }
        port = free_port()
        processes = [
            spawn_agentbatch(
                ["serve", "--port", str(port), *(["--no-worker"] if workers > 1 else [])],
                env,
                workdir / f"{name}-api.log",
            )
        ]
        pin(processes[0].pid, 0)
        if workers > 1:
            processes += [
                spawn_agentbatch(["worker"], env, workdir / f"{name}-w{i}.log") for i in range(workers)
            ]
        try:
            wait_healthy(f"http://127.0.0.1:{port}", processes[0])
            time.sleep(2)  # let the workers finish starting (imports, migrations)
            outcome = run_batch(f"http://127.0.0.1:{port}", agents, script, 2, name, per_agent, history)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
    return outcome


def require_postgres() -> str:
    url = create_postgres()
    if url is None:
        raise SystemExit("PostgreSQL is not reachable; run with --scenarios sqlite,latency")
    return url


def pin_emulator(emulator: EmulatorProcess) -> None:
    process = emulator._process  # the child runs on the other core
    if process is not None:
        pin(process.pid, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--latency-agents", type=int, default=1024)
    parser.add_argument("--latency-ms", type=float, default=250)
    parser.add_argument("--queued-agents", type=int, default=100)
    parser.add_argument("--queued-per-agent", type=int, default=40)
    parser.add_argument("--long-agents", type=int, default=50)
    parser.add_argument("--long-messages", type=int, default=10_000)
    parser.add_argument("--long-per-agent", type=int, default=4)
    parser.add_argument("--scenarios", default="sqlite,pg1,pg2,latency,queued,long")
    args = parser.parse_args()
    console = Console(width=160)
    chosen = args.scenarios.split(",")
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="agentbatch-bench-") as tmp:
        workdir = Path(tmp)
        if "sqlite" in chosen:
            url = f"sqlite:///{workdir / 'bench.db'}"
            outcomes.append(scenario("SQLite, 1 process, 0 ms", args.agents, workdir, 0, 1, url))
        for key, label, workers in (
            ("pg1", "PostgreSQL, 1 process, 0 ms", 1),
            ("pg2", "PostgreSQL, API + 2 workers, 0 ms", 2),
        ):
            if key in chosen:
                url = require_postgres()
                try:
                    outcomes.append(scenario(label, args.agents, workdir, 0, workers, url))
                finally:
                    drop_postgres(url)
        if "latency" in chosen:
            url = f"sqlite:///{workdir / 'latency.db'}"
            n = args.latency_agents
            outcome = scenario(f"SQLite, {args.latency_ms:.0f} ms", n, workdir, args.latency_ms, 1, url)
            concurrency = 64  # calls in flight per model (AGENTBATCH_MODEL_CONCURRENCY default)
            bound = n * 2 * args.latency_ms / 1000 / concurrency
            outcome.note = f"latency bound {bound:.2f} s = {outcome.seconds / bound:.2f}x of it"
            outcomes.append(outcome)
        if "queued" in chosen:
            url = f"sqlite:///{workdir / 'queued.db'}"
            agents, per_agent = args.queued_agents, args.queued_per_agent
            label = f"SQLite, 0 ms, {per_agent} queued per agent"
            outcome = scenario(label, agents, workdir, 0, 1, url, per_agent)
            outcome.note = f"{agents} agents, each running its {per_agent} turns in order"
            outcomes.append(outcome)
        if "long" in chosen:
            url = f"sqlite:///{workdir / 'long.db'}"
            agents, per_agent = args.long_agents, args.long_per_agent
            label = f"SQLite, 0 ms, {args.long_messages:,} messages of history"
            history = History(url, args.long_messages)
            outcome = scenario(label, agents, workdir, 0, 1, url, per_agent, history)
            outcome.note = f"{agents} agents with a 16,000-token window, {per_agent} turns each"
            outcomes.append(outcome)
    table = Table(title=f"engine throughput ({os.cpu_count()} CPUs; 2 steps per request)")
    for column in (
        "scenario",
        "requests",
        "steps",
        "seconds",
        "steps/s",
        "accept batch",
        "first token",
        "note",
    ):
        table.add_column(column)
    for o in outcomes:
        table.add_row(
            o.scenario,
            str(o.requests),
            str(o.steps),
            f"{o.seconds:.2f}",
            f"{o.steps_per_s:,.0f}",
            f"{o.accept_s * 1000:.0f} ms",
            f"{o.ttft_s * 1000:.0f} ms",
            o.note,
        )
    console.print(table)


if __name__ == "__main__":
    main()
