"""How long agentbatch takes to accept one very large batch (validation, one transaction, bulk insert),
on SQLite and PostgreSQL. The batch is cancelled right after, so no provider is needed.

    .venv/bin/python benchmarks/accept_large_batch.py [--requests 100000] [--agents 1000]
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import orjson
from rich.console import Console
from rich.table import Table

from agentbatch.cli.emulator_process import free_port

PG_ADMIN = os.environ.get("AGENTBATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(
    database_url: str, requests: int, agents: int, workdir: Path
) -> tuple[float, float, float, float]:
    port = free_port()
    env = {**os.environ, "AGENTBATCH_DATABASE_URL": database_url, "AGENTBATCH_PROVIDER_PROCESSES": "0"}
    log = (workdir / f"serve-{port}.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "agentbatch", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/health/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("agentbatch did not start")
            time.sleep(0.05)
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
            started = time.perf_counter()
            response = client.post(
                "/v1/messages/batches", content=body, headers={"content-type": "application/json"}
            )
            accepted = time.perf_counter() - started
            response.raise_for_status()
            batch = response.json()
            assert batch["request_counts"]["total"] == requests
            peak = rss_mib(server.pid)
            client.patch(f"/v1/messages/batches/{batch['id']}/cancel").raise_for_status()
        return accepted, len(body) / 1024 / 1024, before, peak
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=1_000)
    args = parser.parse_args()
    table = Table(title=f"accepting one batch of {args.requests:,} requests over {args.agents:,} agents")
    for column in ("database", "body", "accepted in", "requests/s", "server RSS before → after"):
        table.add_column(column)
    with tempfile.TemporaryDirectory(prefix="agentbatch-accept-") as tmp:
        workdir = Path(tmp)
        targets = [("SQLite", f"sqlite:///{workdir / 'accept.db'}")]
        name = f"agentbatch_accept_{uuid.uuid4().hex[:8]}"
        try:
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
            targets.append(("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + "/" + name))
        except (OSError, asyncpg.PostgresError):
            pass
        for label, url in targets:
            seconds, mib, before, peak = measure(url, args.requests, args.agents, workdir)
            table.add_row(
                label,
                f"{mib:.1f} MiB",
                f"{seconds:.2f} s",
                f"{args.requests / seconds:,.0f}",
                f"{before:.0f} → {peak:.0f} MiB",
            )
        if len(targets) > 1:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
