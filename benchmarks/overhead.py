"""The per-request overhead, each figure beside its baseline in the same run (issue #10's targets):

- steps/s of a batch of single-step requests (one per agent, created through letta-client, SQLite, the
  emulator at 0 ms on this box), from the create call to ``completed`` — beside what a user would write
  instead: an asyncio loop over the official OpenAI SDK's default client, one SQLite commit per step;
  where the time goes: CPU milliseconds per step of the engine process, its provider processes and the
  emulator (the box's cores are shared by all three);
- ``serve`` ready (first 200 from /v1/health, on a database already at the newest schema: a restart),
  with its CPU seconds, and the idle RSS of its whole process tree — beside a bare interpreter and the
  import of ``agentbatch.server`` (where the time goes), the main process and the children (where the
  memory goes);
- server time to accept a 100,000-request body, with the server's CPU seconds — beside parsing that body
  with orjson alone, and the CLI's JSONL submit of the same requests (whole command).

``--before-src DIR`` measures another checkout's ``src`` directory (e.g. ``git archive 88ad900 src | tar
-x -C /tmp/before`` and pass ``/tmp/before/src``) in the same run, each figure beside this one's.
``--repeat N`` runs the steps figure (and its baseline) and the accept N times, interleaved with the
``--before-src`` runs, and shows the median and the range. The
box is shared: the title states the load average; compare the ratios of one run, not figures across
runs. ``--readme README.md`` writes the table between the ``overhead-table`` markers. Run:

    .venv/bin/python benchmarks/overhead.py [--agents 5000] [--requests 100000] [--before-src DIR]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
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
    cpu_seconds,
    import_seconds,
    load_average,
    machine,
    process_tree,
    user_loop_steps_per_s,
)

README_START = "<!-- overhead-table:start -->"
README_END = "<!-- overhead-table:end -->"


@dataclass(frozen=True)
class StepRun:
    steps_per_s: float
    engine_ms: float  # CPU per step: the serve process
    providers_ms: float  # its provider processes
    emulator_ms: float


@dataclass(frozen=True)
class Figures:
    ready_s: float = 0.0
    ready_cpu_s: float = 0.0
    import_s: float = 0.0
    tree_mib: float = 0.0
    main_mib: float = 0.0
    processes: int = 0
    step_runs: tuple[StepRun, ...] = field(default_factory=tuple)
    accept_runs: tuple[tuple[float, float], ...] = ()  # server seconds, server CPU seconds
    submit_s: float = 0.0
    parse_s: float = 0.0

    @property
    def steps_per_s(self) -> float:
        return statistics.median(run.steps_per_s for run in self.step_runs) if self.step_runs else 0.0

    @property
    def accept_s(self) -> float:
        return statistics.median(run[0] for run in self.accept_runs) if self.accept_runs else 0.0

    @property
    def accept_cpu_s(self) -> float:
        return statistics.median(run[1] for run in self.accept_runs) if self.accept_runs else 0.0

    def median_ms(self, part: str) -> float:
        return statistics.median(getattr(run, part) for run in self.step_runs) if self.step_runs else 0.0


@dataclass(frozen=True)
class Baselines:
    user_loops: tuple[float, ...] = ()
    python_s: float = 0.0
    python_mib: float = 0.0

    @property
    def user_loop(self) -> float:
        return statistics.median(self.user_loops) if self.user_loops else 1.0


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
    ready_cpu_s = cpu_seconds(server.pid)
    try:
        time.sleep(2)  # idle: whatever start-up left running has settled
        tree = process_tree(server.pid)
    finally:
        stop(server)
    return Figures(
        ready_s=ready_s,
        ready_cpu_s=ready_cpu_s,
        import_s=import_seconds("import agentbatch.cli.main, agentbatch.server", env),
        tree_mib=sum(p.rss_mib for p in tree),
        main_mib=tree[0].rss_mib,
        processes=len(tree),
    )


def steps(workdir: Path, env: dict[str, str], agents: int, emulator: EmulatorProcess) -> StepRun:
    db = workdir / "s.db"
    for leftover in workdir.glob("s.db*"):
        leftover.unlink()
    env = {**env, **emulator.sdk_environment(), "AGENTBATCH_DATABASE_URL": f"sqlite:///{db}"}
    server, base, _ready = start_server(workdir, env)
    assert emulator.pid is not None
    try:
        client = Letta(base_url=base, timeout=600)
        ids = [client.agents.create(model="openai/bench").id for _ in range(agents)]
        requests = [{"agent_id": agent, "messages": [{"role": "user", "content": "hi"}]} for agent in ids]
        children = [p.pid for p in process_tree(server.pid)[1:]]
        cpu_before = [cpu_seconds(pid) for pid in (server.pid, emulator.pid, *children)]
        started = datetime.now().astimezone()
        batch = client.batches.create(requests=requests)  # type: ignore[arg-type]
        while batch.status not in ("completed", "failed", "cancelled", "expired"):
            time.sleep(0.1)
            batch = client.batches.retrieve(batch.id)
        cpu_after = [cpu_seconds(pid) for pid in (server.pid, emulator.pid, *children)]
        detail = httpx.get(f"{base}/v1/messages/batches/{batch.id}").json()
    finally:
        stop(server)
    seconds = (datetime.fromisoformat(detail["completed_at"]) - started).total_seconds()
    done = float(detail["usage"]["step_count"])
    used = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]
    return StepRun(
        steps_per_s=done / seconds,
        engine_ms=used[0] * 1000 / done,
        emulator_ms=used[1] * 1000 / done,
        providers_ms=sum(used[2:]) * 1000 / done,
    )


def request_lines(ids: list[str], requests: int) -> list[bytes]:
    return [
        orjson.dumps({"agent_id": ids[i % len(ids)], "input": f"request number {i}"}) for i in range(requests)
    ]


def accept(workdir: Path, env: dict[str, str], requests: int, agents: int, with_submit: bool) -> Figures:
    """Server seconds (and its CPU seconds) to accept the body, orjson's parse of it alone and, with
    ``with_submit``, seconds of the CLI's submit of it as JSONL."""
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
            cpu_before = cpu_seconds(server.pid)
            started = time.perf_counter()
            response = client.post(
                "/v1/messages/batches", content=body, headers={"content-type": "application/json"}
            )
            accept_s = time.perf_counter() - started
            accept_cpu_s = cpu_seconds(server.pid) - cpu_before
            client.patch(f"/v1/messages/batches/{response.raise_for_status().json()['id']}/cancel")
            if not with_submit:
                return Figures(accept_runs=((accept_s, accept_cpu_s),), parse_s=parse_s)
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
    return Figures(accept_runs=((accept_s, accept_cpu_s),), submit_s=submit_s, parse_s=parse_s)


def measure(
    label: str, env: dict[str, str], args: argparse.Namespace, emulator: EmulatorProcess, run: int
) -> Figures:
    """One round of the chosen figures; the steps figure only from the second round on."""
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix=f"agentbatch-overhead-{label}-") as tmp:
        workdir = Path(tmp)
        figures = Figures()
        if run == 0 and "startup" in only:
            figures = startup(workdir, env)
        if "steps" in only:
            figures = replace(figures, step_runs=(steps(workdir, env, args.agents, emulator),))
        if "accept" in only:
            found = accept(workdir, env, args.requests, args.accept_agents, with_submit=run == 0)
            figures = replace(
                figures, accept_runs=found.accept_runs, submit_s=found.submit_s, parse_s=found.parse_s
            )
    return figures


def merged(first: Figures, later: Figures) -> Figures:
    """The first round's figures with every round's steps and accept runs."""
    return replace(
        first, step_runs=first.step_runs + later.step_runs, accept_runs=first.accept_runs + later.accept_runs
    )


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
        spread = ""
        if len(now.step_runs) > 1:
            rates = [run.steps_per_s for run in now.step_runs]
            loops = baseline.user_loops
            spread = (
                f" (median of {len(rates)}: {min(rates):,.0f} to {max(rates):,.0f}; "
                f"loop {min(loops):,.0f} to {max(loops):,.0f})"
            )

        def cpu(figures: Figures) -> str:
            return (
                f"engine {figures.median_ms('engine_ms'):.2f}, provider processes "
                f"{figures.median_ms('providers_ms'):.2f}, emulator {figures.median_ms('emulator_ms'):.2f}"
            )

        table += [
            [
                f"{args.agents:,} single-step requests, create → completed",
                *pair(now.steps_per_s, then.steps_per_s if before else None, "steps/s", 0),
                f"user's loop (OpenAI SDK, a SQLite commit a step): {baseline.user_loop:,.0f} steps/s; "
                f"agentbatch {now.steps_per_s / baseline.user_loop:.2f}x of it{spread}",
            ],
            [
                "  where it goes: CPU ms per step",
                cpu(now),
                cpu(then) if before else "",
                "the box's cores run all three",
            ],
        ]
    if "startup" in only:
        table += [
            [
                "`serve` ready (restart, health 200)",
                *pair(now.ready_s, then.ready_s if before else None, "s"),
                f"of it, importing the CLI and server: {now.import_s:.2f} s"
                + (f" (before {then.import_s:.2f} s)" if before else "")
                + f"; CPU to ready {now.ready_cpu_s:.2f} s"
                + (f" (before {then.ready_cpu_s:.2f} s)" if before else "")
                + f"; bare python {baseline.python_s:.2f} s",
            ],
            [
                "idle RSS, whole process tree",
                *pair(now.tree_mib, then.tree_mib if before else None, "MiB", 0),
                f"{now.processes} process(es), main {now.main_mib:.0f} MiB"
                + (f" (before {then.processes}, main {then.main_mib:.0f} MiB)" if before else "")
                + f"; bare python {baseline.python_mib:.0f} MiB",
            ],
        ]
    if "accept" in only:
        accepts = [run[0] for run in now.accept_runs]
        accept_spread = (
            f" (median of {len(accepts)}: {min(accepts):.2f} to {max(accepts):.2f} s"
            + (
                f"; before {min(r[0] for r in then.accept_runs):.2f} to "
                f"{max(r[0] for r in then.accept_runs):.2f} s"
                if before
                else ""
            )
            + ")"
            if len(accepts) > 1
            else ""
        )
        table += [
            [
                f"accept a {args.requests:,}-request body, server time",
                *pair(now.accept_s, then.accept_s if before else None, "s"),
                f"server CPU {now.accept_cpu_s:.2f} s"
                + (f" (before {then.accept_cpu_s:.2f} s)" if before else "")
                + f"; orjson parses the body alone in {now.parse_s:.2f} s{accept_spread}",
            ],
            [
                "`agentbatch batches submit` of it as JSONL (whole command)",
                *pair(now.submit_s, then.submit_s if before else None, "s"),
                f"the server's part of it: ~{now.accept_s:.2f} s",
            ],
        ]
    return table


def write_readme(path: Path, title: str, table: list[list[str]]) -> None:
    """Replace the table between the README's markers with this run's."""
    header = ["figure", "now", "before (same run)", "baseline (same run)"]
    lines = [README_START, "", title, "", "| " + " | ".join(header) + " |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table]
    lines += ["", README_END]
    text = path.read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    path.write_text(text[:start] + "\n".join(lines) + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--accept-agents", type=int, default=1_000)
    parser.add_argument("--only", default="steps,startup,accept")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the steps figure and its baseline")
    parser.add_argument("--before-src", type=Path, help="another checkout's src/ to measure beside this one")
    parser.add_argument("--readme", type=Path, help="write the table into this README between its markers")
    args = parser.parse_args()
    load_before = load_average()
    loops: list[float] = []
    with EmulatorProcess(latency_ms=0) as emulator, tempfile.TemporaryDirectory() as tmp:
        before: Figures | None = None
        now = Figures()
        for run in range(args.repeat):  # interleaved, so that a burst of load hits both alike
            if args.before_src is not None:
                env = {"PYTHONPATH": str(args.before_src.resolve())}
                found = measure("before", env, args, emulator, run)
                before = found if before is None else merged(before, found)
            found = measure("now", {}, args, emulator, run)
            now = found if run == 0 else merged(now, found)
            if "steps" in args.only:
                loop_db = Path(tmp) / f"loop-{run}.db"
                loops.append(user_loop_steps_per_s(emulator.base_url, args.agents, 64, loop_db))
        baseline = Baselines(
            user_loops=tuple(loops), python_s=import_seconds("pass"), python_mib=bare_python_rss_mib()
        )
    title = f"per-request overhead on {machine()} ({load_before} at the start, {load_average()} at the end)"
    table = rows(now, before, baseline, args)
    shown = Table(title=title)
    for column in ("figure", "now", "before (same run)", "baseline (same run)"):
        shown.add_column(column)
    for row in table:
        shown.add_row(*row)
    Console(width=240).print(shown)
    if args.readme is not None:
        write_readme(args.readme, title, table)


if __name__ == "__main__":
    main()
