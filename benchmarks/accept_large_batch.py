"""How long agentbatch takes to accept one very large batch (validation, one transaction, bulk insert),
on SQLite and PostgreSQL, into an empty queue and again for the same agents behind it (each agent's new
items then wait behind its queued ones: the submission reads which agents are busy). The batches are
cancelled right after, so no provider is needed.

    .venv/bin/python benchmarks/accept_large_batch.py [--requests 100000] [--agents 1000]
"""

import argparse
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from agentbatch.cli.emulator_process import free_port
from bench_support import create_postgres, drop_postgres, spawn_agentbatch, wait_healthy


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(
    database_url: str, requests: int, agents: int, workdir: Path
) -> tuple[float, float, float, float, float]:
    port = free_port()
    env = {"AGENTBATCH_DATABASE_URL": database_url, "AGENTBATCH_PROVIDER_PROCESSES": "0"}
    server = spawn_agentbatch(
        ["serve", "--port", str(port), "--no-worker"], env, workdir / f"serve-{port}.log"
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server)
        with httpx.Client(base_url=base, timeout=600) as client:
            ids = [
                client.post("/v1/agents/", json={"model": "openai/bench"}).json()["id"] for _ in range(agents)
            ]
            body = orjson.dumps(
                {
                    "requests": [
                        {"agent_id": ids[i % agents], "input": f"request number {i}"} for i in range(requests)
                    ]
                }
            )
            before = rss_mib(server.pid)
            timings: list[float] = []
            batch_ids: list[str] = []
            for _ in range(2):  # into an empty queue, then behind the first batch
                started = time.perf_counter()
                response = client.post(
                    "/v1/messages/batches", content=body, headers={"content-type": "application/json"}
                )
                timings.append(time.perf_counter() - started)
                response.raise_for_status()
                batch = response.json()
                assert batch["request_counts"]["total"] == requests
                batch_ids.append(batch["id"])
            peak = rss_mib(server.pid)
            for batch_id in batch_ids:
                client.patch(f"/v1/messages/batches/{batch_id}/cancel").raise_for_status()
        return timings[0], timings[1], len(body) / 1024 / 1024, before, peak
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=1_000)
    args = parser.parse_args()
    table = Table(title=f"accepting one batch of {args.requests:,} requests over {args.agents:,} agents")
    columns = (
        "database",
        "body",
        "accepted in",
        "requests/s",
        "behind a queued batch",
        "server RSS before → after",
    )
    for column in columns:
        table.add_column(column)
    with tempfile.TemporaryDirectory(prefix="agentbatch-accept-") as tmp:
        workdir = Path(tmp)
        targets = [("SQLite", f"sqlite:///{workdir / 'accept.db'}")]
        postgres = create_postgres("agentbatch_accept")
        if postgres is not None:
            targets.append(("PostgreSQL", postgres))
        for label, url in targets:
            seconds, behind, mib, before, peak = measure(url, args.requests, args.agents, workdir)
            table.add_row(
                label,
                f"{mib:.1f} MiB",
                f"{seconds:.2f} s",
                f"{args.requests / seconds:,.0f}",
                f"{behind:.2f} s",
                f"{before:.0f} → {peak:.0f} MiB",
            )
        if postgres is not None:
            drop_postgres(postgres)
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
