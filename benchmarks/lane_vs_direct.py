"""One workload, direct vs the provider-batch lane: wall time, provider requests, cost (the BatchJob's
``cost`` fields: total, direct equivalent, saved), and how soon an ended provider batch's results are
committed (pick-up latency). The server's memory under a 100,000-request lane batch: ``lane_memory.py``.

The emulator and agentbatch (SQLite) run in this process, on threads. Run:

    cd benchmarks && ../.venv/bin/python lane_vs_direct.py [--agents 200] [--batch-delay-s 1] [--model M]
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
from sqlalchemy import select

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from agentbatch.settings import Settings
from agentbatch.store.database import Database
from agentbatch.store.tables import provider_batches

SCRIPT = "[[tool:conversation_search]] what did we say?"  # two steps: a tool call, then the reply


@dataclass
class Outcome:
    dispatch: str
    seconds: float
    steps: int
    direct_calls: int
    provider_batches: int
    batch_requests: int
    pickup_s: list[float]
    cost: dict[str, str]


def run(dispatch: str, agents: int, model: str, emulator: EmulatorThread, folder: Path) -> Outcome:
    emulator.app.state.reset()
    url = f"sqlite:///{folder / f'{dispatch}.db'}"
    settings = Settings(
        database_url=url,
        provider_processes=0,
        claim_poll_s=0.05,
        lane_poll_max_s=1.0,
        lane_gather_window_s=0.5,
    )
    with ServerThread(settings) as server, httpx.Client(base_url=server.base_url, timeout=120) as client:
        ids = [client.post("/v1/agents/", json={"model": model}).json()["id"] for _ in range(agents)]
        started = time.perf_counter()
        body = {"requests": [{"agent_id": a, "input": SCRIPT} for a in ids], "dispatch": dispatch}
        batch = client.post("/v1/messages/batches", json=body).raise_for_status().json()
        while batch["status"] not in ("completed", "failed", "cancelled", "expired"):
            time.sleep(0.05)
            batch = client.get(f"/v1/messages/batches/{batch['id']}").json()
        seconds = time.perf_counter() - started
    state = emulator.app.state
    direct = sum(sum(counts.values()) for counts in state.stats.snapshot().values())
    ends = {b.id: b.timeline.done_at for b in state.openai_batches.newest_first()}
    ends |= {b.id: b.timeline.finalizing_at for b in state.anthropic_batches.newest_first()}
    lines = sum(len(b.lines) for b in state.openai_batches.newest_first())
    lines += sum(len(b.requests) for b in state.anthropic_batches.newest_first())
    picked = asyncio.run(_pickups(url))
    pickup = [picked[pid].timestamp() - ended for pid, ended in ends.items() if pid in picked]
    return Outcome(
        dispatch, seconds, batch["usage"]["step_count"], direct, len(ends), lines, pickup, batch["cost"]
    )


async def _pickups(url: str) -> dict[str, datetime]:
    db = Database(url)
    try:
        async with db.read() as conn:
            rows = await conn.execute(
                select(provider_batches.c.provider_batch_id, provider_batches.c.ended_at)
            )
            return {row[0]: row[1].astimezone(UTC) for row in rows if row[0] and row[1]}
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--batch-delay-s", type=float, default=1.0)
    parser.add_argument("--model", default="openai/gpt-4o-mini")
    args = parser.parse_args()
    with EmulatorThread(EmulatorConfig(batch_delay_s=args.batch_delay_s)) as emulator:
        os.environ.update(
            OPENAI_BASE_URL=f"{emulator.base_url}/v1",
            OPENAI_API_KEY="bench",
            ANTHROPIC_BASE_URL=emulator.base_url,
            ANTHROPIC_API_KEY="bench",
        )
        with tempfile.TemporaryDirectory() as folder:
            outcomes = [
                run(d, args.agents, args.model, emulator, Path(folder)) for d in ("direct", "provider_batch")
            ]
    table = Table(
        title=f"{args.agents} two-step turns, {args.model}, batches end after {args.batch_delay_s} s"[:110]
    )
    for column in (
        "dispatch",
        "wall s",
        "steps",
        "direct calls",
        "provider batches",
        "batch requests",
        "pick-up s (max)",
        "cost $",
        "direct-equivalent $",
        "saved $",
    ):
        table.add_column(column, justify="right")
    for o in outcomes:
        pickup = f"{max(o.pickup_s):.2f}" if o.pickup_s else "-"
        table.add_row(
            o.dispatch,
            f"{o.seconds:.2f}",
            str(o.steps),
            str(o.direct_calls),
            str(o.provider_batches),
            str(o.batch_requests),
            pickup,
            o.cost["total"],
            o.cost["direct_equivalent"],
            o.cost["saved"],
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
