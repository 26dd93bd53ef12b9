"""The server's memory while a very large lane batch is built and submitted: one batch of N single-step
requests (default 100,000, one agent each) with ``dispatch: provider_batch``, gathered into provider
batches (Anthropic: up to 100,000 requests each) whose input is written as a stream.

agentbatch (SQLite) and the emulator run as separate processes; the server's RSS is the sum over its
whole process tree, sampled every 50 ms. The baseline is the same server, idle, just before the batch.

    .venv/bin/python benchmarks/lane_memory.py [--requests 100000] [--model anthropic/claude-haiku-4-5]
"""

import argparse
import sqlite3
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from agentbatch.cli.emulator_process import EmulatorProcess, free_port
from bench_support import spawn_agentbatch, wait_healthy

_AGENT_TABLES = ("agents", "blocks", "agent_tools", "agent_tags", "messages")


def tree_rss_mib(root: int) -> float:
    """The RSS of ``root`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total_kib, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


class PeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, tree_rss_mib(self.pid))
            time.sleep(0.05)


def clone_agents(database: Path, template: str, count: int) -> list[str]:
    """``count`` copies of one agent, written straight into the database (creating 100,000 agents one
    request at a time would take longer than the measurement)."""
    ids = [f"agent-{uuid.uuid4()}" for _ in range(count)]
    with sqlite3.connect(database) as conn:
        for table in _AGENT_TABLES:
            key = "id" if table == "agents" else "agent_id"
            cursor = conn.execute(f"SELECT * FROM {table} WHERE {key} = ?", (template,))
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
            kept = [c for c in columns if c != "seq"]
            sql = f"INSERT INTO {table} ({', '.join(kept)}) VALUES ({', '.join('?' * len(kept))})"
            for row in rows:
                values = dict(zip(columns, row, strict=True))
                conn.executemany(sql, (_copy(values, kept, key, agent_id) for agent_id in ids))
    return ids


def _copy(values: dict[str, object], kept: list[str], key: str, agent_id: str) -> tuple[object, ...]:
    row = {**values, key: agent_id}
    if key != "id" and "id" in row:
        row["id"] = f"{str(values['id']).split('-', 1)[0]}-{uuid.uuid4()}"
    return tuple(row[c] for c in kept)


def submitted(database: Path) -> tuple[int, int]:
    with sqlite3.connect(database) as conn:
        count, requests = conn.execute(
            "SELECT count(*), coalesce(sum(request_count), 0) FROM provider_batches "
            "WHERE provider_batch_id IS NOT NULL"
        ).fetchone()
    return int(count), int(requests)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--model", default="anthropic/claude-haiku-4-5")
    parser.add_argument("--batch-delay-s", type=float, default=2.0)
    args = parser.parse_args()
    n = args.requests
    with (
        tempfile.TemporaryDirectory() as folder,
        EmulatorProcess(batch_delay_s=args.batch_delay_s) as emulator,
    ):
        database = Path(folder) / "lane.db"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **emulator.sdk_environment(),
            "AGENTBATCH_DATABASE_URL": f"sqlite:///{database}",
            "AGENTBATCH_PROVIDER_PROCESSES": "0",
            "AGENTBATCH_TURNS_PER_MODEL": str(n),
            "AGENTBATCH_LANE_GATHER_MAX": str(n),
            "AGENTBATCH_LANE_GATHER_WINDOW_S": "10",
        }
        log = Path(folder) / "serve.log"
        setup = spawn_agentbatch(["serve", "--port", str(port), "--no-worker"], env, log)
        try:
            wait_healthy(base, setup)
            template = httpx.post(f"{base}/v1/agents/", json={"model": args.model}).json()["id"]
        finally:
            setup.terminate()
            setup.wait(timeout=30)
        started = time.perf_counter()
        ids = clone_agents(database, template, n)
        cloned_s = time.perf_counter() - started

        server = spawn_agentbatch(["serve", "--port", str(port)], env, log)
        try:
            wait_healthy(base, server)
            idle = tree_rss_mib(server.pid)
            sampler = PeakSampler(server.pid)
            sampler.start()
            body = orjson.dumps(
                {"requests": [{"agent_id": a, "input": "hi"} for a in ids], "dispatch": "provider_batch"}
            )
            with httpx.Client(base_url=base, timeout=1800) as client:
                started = time.perf_counter()
                batch = (
                    client.post(
                        "/v1/messages/batches", content=body, headers={"content-type": "application/json"}
                    )
                    .raise_for_status()
                    .json()
                )
                accepted_s = time.perf_counter() - started
                del body
                while submitted(database)[1] < n:
                    time.sleep(0.2)
                submitted_s = time.perf_counter() - started
                peak_submit = sampler.peak
                while batch["status"] not in ("completed", "cancelled", "expired", "failed"):
                    time.sleep(0.5)
                    batch = client.get(f"/v1/messages/batches/{batch['id']}").json()
                done_s = time.perf_counter() - started
            sampler.running = False
            provider_batches, _ = submitted(database)
        finally:
            server.terminate()
            server.wait(timeout=60)

    table = Table(
        title=f"One {n:,}-request lane batch ({args.model}), SQLite, emulator batches end after "
        f"{args.batch_delay_s:g} s"
    )
    for column in ("measure", "value"):
        table.add_column(column, justify="right")
    rows = [
        ("agents cloned into the database (setup)", f"{n:,} in {cloned_s:.1f} s"),
        ("server RSS, idle (baseline)", f"{idle:.0f} MiB"),
        ("create accepted (POST /v1/messages/batches)", f"{accepted_s:.1f} s"),
        ("every request in a submitted provider batch", f"{submitted_s:.1f} s"),
        ("provider batches", str(provider_batches)),
        ("server peak RSS (process tree) until submitted", f"{peak_submit:.0f} MiB"),
        ("server peak RSS (process tree) until the batch ended", f"{sampler.peak:.0f} MiB"),
        (
            "batch ended",
            f"{batch['status']} after {done_s:.1f} s ({batch['request_counts']['succeeded']:,} ok)",
        ),
    ]
    for row in rows:
        table.add_row(*row)
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
