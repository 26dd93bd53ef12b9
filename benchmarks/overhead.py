"""The per-request overhead, each figure beside its baseline in the same run (issue #10's targets):

- steps/s of a batch of single-step requests (one per agent, created through letta-client, SQLite, the
  emulator at 0 ms on this box), from the create call to ``completed`` — beside what a user would write
  instead: an asyncio loop over the official OpenAI SDK's default client, one SQLite commit per step;
- ``serve`` ready (first 200 from /v1/health, on a database already at the newest schema: a restart)
  and the idle RSS of its whole process tree — beside a bare interpreter and the import of
  ``agentbatch.server`` (where the time goes);
- server time to accept a 100,000-request body — beside parsing that body with orjson alone, and the
  CLI's JSONL submit of the same requests (whole command).

``--before-src DIR`` measures another checkout's ``src`` (e.g. ``git archive 88ad900 src | tar -x -C
/tmp/before``) in the same run, each figure beside this one's. The box is shared: the title states the
load average; compare the ratios of one run, not figures across runs. Run:

    .venv/bin/python benchmarks/overhead.py [--agents 5000] [--requests 100000] [--before-src DIR]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class Figures:
    ready_s: float = 0.0
    import_s: float = 0.0
    tree_mib: float = 0.0
    main_mib: float = 0.0
    processes: int = 0
    steps_per_s: float = 0.0
    accept_s: float = 0.0
    submit_s: float = 0.0
    parse_s: float = 0.0


@dataclass(frozen=True)
class Baselines:
    user_loop: float = 0.0
    python_s: float = 0.0
    python_mib: float = 0.0


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


def startup(workdir: Path, env: dict[str, str]) -> Figures:
    env = {**env, "AGENTBATCH_DATABASE_URL": f"sqlite:///{workdir / 'startup.db'}"}
    stop(start_server(workdir, env)[0])  # creates the schema: the measured start is a restart
    server, _base, ready_s = start_server(workdir, env)
    try:
        time.sleep(2)  # idle: whatever start-up left running has settled
        tree = process_tree(server.pid)
    finally:
        stop(server)
    return Figures(
        ready_s=ready_s,
        import_s=import_seconds("import agentbatch.cli.main, agentbatch.server", env),
        tree_mib=sum(p.rss_mib for p in tree),
        main_mib=tree[0].rss_mib,
        processes=len(tree),
    )


def steps(workdir: Path, env: dict[str, str], agents: int, emulator: EmulatorProcess) -> float:
    env = {**env, **emulator.sdk_environment(), "AGENTBATCH_DATABASE_URL": f"sqlite:///{workdir / 's.db'}"}
    server, base, _ready = start_server(workdir, env)
    try:
        client = Letta(base_url=base, timeout=600)
        ids = [client.agents.create(model="openai/bench").id for _ in range(agents)]
        requests = [{"agent_id": agent, "messages": [{"role": "user", "content": "hi"}]} for agent in ids]
        started = datetime.now().astimezone()
        batch = client.batches.create(requests=requests)  # type: ignore[arg-type]
        while batch.status not in ("completed", "failed", "cancelled", "expired"):
            time.sleep(0.1)
            batch = client.batches.retrieve(batch.id)
        detail = httpx.get(f"{base}/v1/messages/batches/{batch.id}").json()
    finally:
        stop(server)
    seconds = (datetime.fromisoformat(detail["completed_at"]) - started).total_seconds()
    return float(detail["usage"]["step_count"]) / seconds


def request_lines(ids: list[str], requests: int) -> list[bytes]:
    return [
        orjson.dumps({"agent_id": ids[i % len(ids)], "input": f"request number {i}"}) for i in range(requests)
    ]


def accept(workdir: Path, env: dict[str, str], requests: int, agents: int) -> tuple[float, float, float]:
    """(server seconds to accept the body, seconds of the CLI's submit of it as JSONL, orjson's parse)."""
    env = {**env, "AGENTBATCH_DATABASE_URL": f"sqlite:///{workdir / 'accept.db'}"}
    (workdir / "accept.db").unlink(missing_ok=True)
    server, base, _ready = start_server(workdir, env, "--no-worker")
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            ids = [
                client.post("/v1/agents/", json={"model": "openai/bench"}).json()["id"] for _ in range(agents)
            ]
            lines = request_lines(ids, requests)
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
                env={**os.environ, **env},
            )
            submit_s = time.perf_counter() - started
            client.patch(f"/v1/messages/batches/{submitted.stdout.strip()}/cancel")
    finally:
        stop(server)
    return accept_s, submit_s, parse_s


def measure(label: str, env: dict[str, str], args: argparse.Namespace, emulator: EmulatorProcess) -> Figures:
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix=f"agentbatch-overhead-{label}-") as tmp:
        workdir = Path(tmp)
        figures = startup(workdir, env) if "startup" in only else Figures()
        if "steps" in only:
            figures = replace(figures, steps_per_s=steps(workdir, env, args.agents, emulator))
        if "accept" in only:
            accept_s, submit_s, parse_s = accept(workdir, env, args.requests, args.accept_agents)
            figures = replace(figures, accept_s=accept_s, submit_s=submit_s, parse_s=parse_s)
    return figures


def rows(
    now: Figures, before: Figures | None, baseline: Baselines, args: argparse.Namespace
) -> list[list[str]]:
    def pair(value: float, then: float | None, unit: str, digits: int = 2) -> tuple[str, str]:
        shown = f"{value:,.{digits}f} {unit}"
        if then is None or not then:
            return shown, ""
        return shown, f"{then:,.{digits}f} {unit} ({value / then:.2f}x)"

    then = before or Figures()
    table: list[list[str]] = []
    only = set(args.only.split(","))
    if "steps" in only:
        table.append(
            [
                f"{args.agents:,} single-step requests, create → completed",
                *pair(now.steps_per_s, before and then.steps_per_s, "steps/s", 0),
                f"user's loop (OpenAI SDK, a SQLite commit a step): {baseline.user_loop:,.0f} steps/s; "
                f"agentbatch {now.steps_per_s / baseline.user_loop:.2f}x of it",
            ]
        )
    if "startup" in only:
        table += [
            [
                "`serve` ready (restart, health 200)",
                *pair(now.ready_s, before and then.ready_s, "s"),
                f"of it, importing the CLI and server: {now.import_s:.2f} s"
                + (f" (before {then.import_s:.2f} s)" if before else "")
                + f"; bare python {baseline.python_s:.2f} s",
            ],
            [
                "idle RSS, whole process tree",
                *pair(now.tree_mib, before and then.tree_mib, "MiB", 0),
                f"{now.processes} process(es), main {now.main_mib:.0f} MiB"
                + (f" (before {then.processes}, main {then.main_mib:.0f} MiB)" if before else "")
                + f"; bare python {baseline.python_mib:.0f} MiB",
            ],
        ]
    if "accept" in only:
        table += [
            [
                f"accept a {args.requests:,}-request body, server time",
                *pair(now.accept_s, before and then.accept_s, "s"),
                f"orjson parses the body alone in {now.parse_s:.2f} s",
            ],
            [
                "`agentbatch batches submit` of it as JSONL (whole command)",
                *pair(now.submit_s, before and then.submit_s, "s"),
                f"the server's part of it: ~{now.accept_s:.2f} s",
            ],
        ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--accept-agents", type=int, default=1_000)
    parser.add_argument("--only", default="steps,startup,accept")
    parser.add_argument("--before-src", type=Path, help="another checkout's src/ to measure beside this one")
    args = parser.parse_args()
    load_before = load_average()
    with EmulatorProcess(latency_ms=0) as emulator, tempfile.TemporaryDirectory() as tmp:
        before = None
        if args.before_src is not None:
            before = measure("before", {"PYTHONPATH": str(args.before_src.resolve())}, args, emulator)
        now = measure("now", {}, args, emulator)
        baseline = Baselines(
            user_loop=user_loop_steps_per_s(emulator.base_url, args.agents, 64, Path(tmp) / "loop.db")
            if "steps" in args.only
            else 1.0,
            python_s=import_seconds("pass"),
            python_mib=bare_python_rss_mib(),
        )
    table = Table(title=f"per-request overhead ({load_before} at the start, {load_average()} at the end)")
    for column in ("figure", "now", "before (same run)", "baseline (same run)"):
        table.add_column(column)
    for row in rows(now, before, baseline, args):
        table.add_row(*row)
    Console(width=220).print(table)


if __name__ == "__main__":
    main()
