"""The per-request overhead, each figure beside its baseline in the same run (issue #10's targets):

- steps/s of a batch of single-step requests (one per agent, created through letta-client, SQLite, the
  emulator at 0 ms on this box), from the create call to ``completed`` — beside what a user would write
  instead: an asyncio loop over the official OpenAI SDK's default client, one SQLite commit per step;
- ``serve`` ready (first 200 from /v1/health) and the idle RSS of its whole process tree — beside a bare
  interpreter's start-up and RSS and the import of ``agentbatch.server`` (where the time goes);
- server time to accept a 100,000-request body — beside parsing that body with orjson alone, and the
  CLI's JSONL submit of the same requests (whole command).

The box is shared: every table states the load average; compare the ratios of one run. Run:

    .venv/bin/python benchmarks/overhead.py [--agents 5000] [--requests 100000] [--only steps,startup,accept]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import orjson
from letta_client import Letta
from rich.console import Console
from rich.table import Table

from agentbatch.cli.emulator_process import EmulatorProcess, free_port
from bench_support import spawn_agentbatch, wait_healthy
from overhead_probes import (
    bare_python_rss_mib,
    import_seconds,
    load_average,
    process_tree,
    user_loop_steps_per_s,
)

# Measured on this 2-core box at commit 88ad900 (before the overhead cut), quoted beside each figure.
BEFORE = {
    "steps": "810 to 1,130 steps/s",
    "ready": "2.9 s",
    "tree": "263 MiB (158 main)",
    "accept": "3.2 s",
}
Row = tuple[str, str, str, str]


def start_server(
    workdir: Path, env: dict[str, str], *extra: str
) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    started = time.perf_counter()
    server = spawn_agentbatch(["serve", "--port", str(port), *extra], env, workdir / f"serve-{port}.log")
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, server)
    return server, base, time.perf_counter() - started


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


def startup_and_steps(workdir: Path, agents: int, only: set[str]) -> list[Row]:
    rows: list[Row] = []
    with EmulatorProcess(latency_ms=0) as emulator:
        env = {**emulator.sdk_environment(), "AGENTBATCH_DATABASE_URL": f"sqlite:///{workdir / 'steps.db'}"}
        server, base, ready_s = start_server(workdir, env)
        try:
            if "startup" in only:
                time.sleep(2)  # idle: whatever start-up left running has settled
                tree = process_tree(server.pid)
                main_rss, total = tree[0].rss_mib, sum(p.rss_mib for p in tree)
                python_s = import_seconds("pass")
                import_s = import_seconds("import agentbatch.server")
                rows += [
                    (
                        "`serve` ready (health 200)",
                        f"{ready_s:.2f} s",
                        f"bare python {python_s:.2f} s; import agentbatch.server {import_s:.2f} s",
                        BEFORE["ready"],
                    ),
                    (
                        "idle RSS, whole process tree",
                        f"{total:.0f} MiB ({len(tree)} processes, main {main_rss:.0f})",
                        f"bare python {bare_python_rss_mib():.0f} MiB",
                        BEFORE["tree"],
                    ),
                ]
            if "steps" in only:
                rows.append(_steps_row(base, emulator.base_url, agents, workdir))
        finally:
            stop(server)
    return rows


def _steps_row(base: str, emulator_url: str, agents: int, workdir: Path) -> Row:
    client = Letta(base_url=base, timeout=600)
    ids = [client.agents.create(model="openai/bench").id for _ in range(agents)]
    requests = [{"agent_id": agent_id, "messages": [{"role": "user", "content": "hi"}]} for agent_id in ids]
    started = datetime.now().astimezone()
    batch = client.batches.create(requests=requests)  # type: ignore[arg-type]
    while batch.status not in ("completed", "failed", "cancelled", "expired"):
        time.sleep(0.1)
        batch = client.batches.retrieve(batch.id)
    detail = httpx.get(f"{base}/v1/messages/batches/{batch.id}").json()
    steps = detail["usage"]["step_count"]
    completed = datetime.fromisoformat(detail["completed_at"])
    seconds = (completed - started).total_seconds()
    baseline = user_loop_steps_per_s(emulator_url, agents, 64, workdir / "user-loop.db")
    return (
        f"{agents:,} single-step requests, create → completed",
        f"{steps / seconds:,.0f} steps/s ({steps:,} steps in {seconds:.2f} s)",
        f"user's loop (OpenAI SDK + SQLite commit a step): {baseline:,.0f} steps/s "
        f"→ {steps / seconds / baseline:.1f}x",
        BEFORE["steps"],
    )


def accept(workdir: Path, requests: int, agents: int) -> list[Row]:
    env = {"AGENTBATCH_DATABASE_URL": f"sqlite:///{workdir / 'accept.db'}"}
    server, base, _ready = start_server(workdir, env, "--no-worker")
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            ids = [
                client.post("/v1/agents/", json={"model": "openai/bench"}).json()["id"] for _ in range(agents)
            ]
            lines = [
                orjson.dumps({"agent_id": ids[i % agents], "input": f"request number {i}"})
                for i in range(requests)
            ]
            body = b'{"requests":[' + b",".join(lines) + b"]}"
            parse_started = time.perf_counter()
            orjson.loads(body)
            parse_s = time.perf_counter() - parse_started
            started = time.perf_counter()
            response = client.post(
                "/v1/messages/batches", content=body, headers={"content-type": "application/json"}
            )
            accept_s = time.perf_counter() - started
            client.patch(f"/v1/messages/batches/{response.raise_for_status().json()['id']}/cancel")
            jsonl = workdir / "requests.jsonl"
            jsonl.write_bytes(b"\n".join(lines) + b"\n")
            started = time.perf_counter()
            submitted = subprocess.run(
                [sys.executable, "-m", "agentbatch", "batches", "submit", str(jsonl), "--url", base],
                check=True,
                capture_output=True,
                text=True,
            )
            submit_s = time.perf_counter() - started
            client.patch(f"/v1/messages/batches/{submitted.stdout.strip()}/cancel")
    finally:
        stop(server)
    mib = len(body) / 1024 / 1024
    return [
        (
            f"accept a {requests:,}-request body ({mib:.1f} MiB), server time",
            f"{accept_s:.2f} s ({requests / accept_s:,.0f} requests/s)",
            f"orjson parse alone {parse_s:.2f} s; "
            f"`agentbatch batches submit` (whole command) {submit_s:.2f} s",
            BEFORE["accept"],
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--accept-agents", type=int, default=1_000)
    parser.add_argument("--only", default="steps,startup,accept")
    args = parser.parse_args()
    only = set(args.only.split(","))
    load_before = load_average()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="agentbatch-overhead-") as tmp:
        workdir = Path(tmp)
        if only & {"steps", "startup"}:
            rows += startup_and_steps(workdir, args.agents, only)
        if "accept" in only:
            rows += accept(workdir, args.requests, args.accept_agents)
    table = Table(title=f"per-request overhead ({load_before} at the start, {load_average()} at the end)")
    for column in ("figure", "now", "baseline, same run", "before (88ad900)"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
