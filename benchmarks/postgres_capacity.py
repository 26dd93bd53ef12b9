"""How far one PostgreSQL carries: claims/s and step commits/s with N worker processes, and the
PostgreSQL CPU each costs (so the capacity of a bigger database box can be projected).

One API (`serve --no-worker`) and N `agentbatch worker` processes share a fresh database; the emulator
answers at 0 ms, so everything measured is agentbatch and PostgreSQL. Two workloads per N:

- claim-bound: one step per request (a claim, one commit that ends the turn);
- commit-bound: three steps per request (two tool calls, then the reply).

PostgreSQL's own CPU is read from /proc for the backends serving this database (sampled through
pg_stat_activity while the batch runs), so it works only where PostgreSQL runs on this machine. Run:

    .venv/bin/python benchmarks/postgres_capacity.py [--agents 400] [--workers 1,2,4]
"""

import argparse
import asyncio
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from agentbatch.cli.emulator_process import EmulatorProcess, free_port
from bench_support import create_postgres, drop_postgres, spawn_agentbatch, wait_healthy

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WORKLOADS = {
    "claim-bound (1 step)": ("capacity", 1),
    "commit-bound (3 steps)": ("[[tool:conversation_search]] [[tool:conversation_search]] capacity", 3),
}


@dataclass
class Measurement:
    workers: int
    workload: str
    items: int
    steps: int
    seconds: float
    pg_cpu_s: float
    commits: int  # the counter before the run, until ``measure`` replaces it by the difference

    @property
    def claims_per_s(self) -> float:
        return self.items / self.seconds

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds

    @property
    def pg_ms_per_step(self) -> float:
        return self.pg_cpu_s / self.steps * 1000


class BackendCpu:
    """CPU seconds used by the PostgreSQL backends of one database, sampled while a run lasts."""

    def __init__(self, dsn: str, database: str) -> None:
        self._dsn, self._database = dsn, database
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._sample()), daemon=True)

    async def _sample(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        try:
            while not self._stop.is_set():
                rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", self._database)
                for row in rows:
                    cpu = _cpu_seconds(row["pid"])
                    if cpu is not None:
                        self._first.setdefault(row["pid"], cpu)
                        self._last[row["pid"]] = cpu
                await asyncio.sleep(0.2)
        finally:
            await conn.close()

    def __enter__(self) -> "BackendCpu":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def seconds(self) -> float:
        return sum(self._last[pid] - self._first[pid] for pid in self._last)


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


async def _commits(dsn: str, database: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_stat_force_next_flush()")
        value = await conn.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = $1", database)
        return int(value or 0)
    finally:
        await conn.close()


def measure(workers: int, workload: str, agents: int, workdir: Path) -> Measurement:
    script, steps_per_item = WORKLOADS[workload]
    url = create_postgres("agentbatch_capacity")
    if url is None:
        raise SystemExit("PostgreSQL is not reachable")
    database = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with EmulatorProcess() as emulator:
            env = {
                **emulator.sdk_environment(),
                "AGENTBATCH_DATABASE_URL": url,
                "AGENTBATCH_LOG_LEVEL": "warning",
            }
            port = free_port()
            processes = [
                spawn_agentbatch(["serve", "--port", str(port), "--no-worker"], env, workdir / "api.log")
            ]
            processes += [spawn_agentbatch(["worker"], env, workdir / f"w{i}.log") for i in range(workers)]
            try:
                base = f"http://127.0.0.1:{port}"
                wait_healthy(base, processes[0], timeout_s=600)
                _wait_workers(url, workers)
                result = _run(base, admin, database, workers, workload, agents, script, steps_per_item)
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(timeout=60)
        # backends report their counters when they exit: read the commits once every process is gone
        time.sleep(0.5)
        result.commits = asyncio.run(_commits(admin, database)) - result.commits
        return result
    finally:
        drop_postgres(url)


def _wait_workers(url: str, workers: int) -> None:
    async def count() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM workers"))
        finally:
            await conn.close()

    deadline = time.monotonic() + 600
    while asyncio.run(count()) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not register")
        time.sleep(0.2)


def _run(
    base: str, admin: str, database: str, workers: int, workload: str, agents: int, script: str, steps: int
) -> Measurement:
    with httpx.Client(base_url=base, timeout=300) as http:
        ids = [http.post("/v1/agents/", json={"model": "openai/bench"}).json()["id"] for _ in range(agents)]
        requests = [{"agent_id": agent_id, "input": script} for agent_id in ids]
        commits_before = asyncio.run(_commits(admin, database))
        with BackendCpu(admin, database) as cpu:
            batch = http.post("/v1/messages/batches", json={"requests": requests}).raise_for_status().json()
            while batch["status"] not in ("completed", "failed", "cancelled", "expired"):
                time.sleep(0.1)
                batch = http.get(f"/v1/messages/batches/{batch['id']}").json()
    seconds = (
        datetime.fromisoformat(batch["completed_at"]) - datetime.fromisoformat(batch["created_at"])
    ).total_seconds()
    step_count = batch["usage"]["step_count"]
    assert step_count == agents * steps, (step_count, batch["request_counts"])
    return Measurement(workers, workload, agents, step_count, seconds, cpu.seconds, commits_before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=400)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    args = parser.parse_args()
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="agentbatch-capacity-") as tmp:
        for workload in args.workloads.split(","):
            for workers in (int(n) for n in args.workers.split(",")):
                results.append(measure(workers, workload, args.agents, Path(tmp)))
    table = Table(title=f"one PostgreSQL, N workers ({os.cpu_count()} CPUs on this box, emulator at 0 ms)")
    for column in (
        "workload",
        "workers",
        "items",
        "steps",
        "s",
        "claims/s",
        "step commits/s",
        "PG xacts",
        "PG CPU ms/step",
        "steps/s per PG core",
    ):
        table.add_column(column)
    for m in results:
        per_core = f"{1000 / m.pg_ms_per_step:,.0f}" if m.pg_cpu_s else "n/a"
        table.add_row(
            m.workload, str(m.workers), str(m.items), str(m.steps), f"{m.seconds:.1f}",
            f"{m.claims_per_s:,.0f}", f"{m.steps_per_s:,.0f}", str(m.commits),
            f"{m.pg_ms_per_step:.2f}", per_core,
        )  # fmt: skip
    Console(width=180).print(table)


if __name__ == "__main__":
    main()
