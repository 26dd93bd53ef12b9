"""Synchronous sends queued behind each other on one agent: how long each waits after the previous
turn ends. This checkout (woken by the agent's turn ending) beside a baseline checkout (e.g. one whose
sends poll the database every 20 to 500 ms), in one run, on SQLite with the emulator at a fixed latency.

    .venv/bin/python benchmarks/sync_send_wait.py [--baseline /work/main] [--sends 12] [--latency-ms 100]

The baseline is another checkout with its own ``.venv``; without one, only this checkout is measured.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from agentbatch.cli.emulator_process import EmulatorProcess, free_port
from bench_support import wait_healthy

_BODY = {"messages": [{"role": "user", "content": "hello"}]}


@dataclass
class Outcome:
    checkout: str
    sends: int
    alone_s: float
    queued_s: float
    mean_answer_s: float

    @property
    def wait_per_handoff_ms(self) -> float:
        """Time beyond the turns themselves, per send that had to wait for the one before."""
        return (self.queued_s - self.sends * self.alone_s) / max(1, self.sends - 1) * 1000


async def _timed(client: httpx.AsyncClient, url: str) -> float:
    started = time.perf_counter()
    (await client.post(url, json=_BODY)).raise_for_status()
    return time.perf_counter() - started


async def _sends(base_url: str, sends: int) -> tuple[float, float, float]:
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as client:
        created = await client.post("/v1/agents/", json={"model": "openai/bench"})
        agent_id = created.raise_for_status().json()["id"]
        url = f"/v1/agents/{agent_id}/messages"
        await client.post(url, json=_BODY)  # warm up
        alone = []
        for _ in range(3):
            started = time.perf_counter()
            (await client.post(url, json=_BODY)).raise_for_status()
            alone.append(time.perf_counter() - started)
        started = time.perf_counter()
        answers = await asyncio.gather(*(_timed(client, url) for _ in range(sends)))
        queued = time.perf_counter() - started
    return min(alone), queued, sum(answers) / len(answers)


def measure(label: str, python: str, sends: int, latency_ms: float, workdir: Path) -> Outcome:
    name = "".join(c if c.isalnum() else "_" for c in label)
    with EmulatorProcess(latency_ms=latency_ms) as emulator:
        port = free_port()
        env = {
            **os.environ,
            **emulator.sdk_environment(),
            "AGENTBATCH_DATABASE_URL": f"sqlite:///{workdir / (name + '.db')}",
            "AGENTBATCH_LOG_LEVEL": "warning",
        }
        log = (workdir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [python, "-m", "agentbatch", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process)
            alone, queued, mean = asyncio.run(_sends(f"http://127.0.0.1:{port}", sends))
        finally:
            process.terminate()
            process.wait(timeout=30)
    return Outcome(label, sends, alone, queued, mean)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", type=Path, help="another checkout with its own .venv")
    parser.add_argument("--sends", type=int, default=12)
    parser.add_argument("--latency-ms", type=float, default=100)
    args = parser.parse_args()
    checkouts = [("this checkout", sys.executable)]
    if args.baseline is not None:
        checkouts.append((f"baseline ({args.baseline})", str(args.baseline / ".venv" / "bin" / "python")))
    with tempfile.TemporaryDirectory(prefix="agentbatch-sync-") as tmp:
        outcomes = [
            measure(label, python, args.sends, args.latency_ms, Path(tmp)) for label, python in checkouts
        ]
    latency = f"SQLite, emulator {args.latency_ms:.0f} ms"
    table = Table(title=f"{args.sends} synchronous sends to one agent at once ({latency})")
    columns = ("checkout", "one send alone", f"{args.sends} queued", "mean answer", "wait per hand-off")
    for column in columns:
        table.add_column(column, justify="right" if column != "checkout" else "left")
    for outcome in outcomes:
        table.add_row(
            outcome.checkout,
            f"{outcome.alone_s * 1000:.0f} ms",
            f"{outcome.queued_s:.2f} s",
            f"{outcome.mean_answer_s:.2f} s",
            f"{outcome.wait_per_handoff_ms:.0f} ms",
        )
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
