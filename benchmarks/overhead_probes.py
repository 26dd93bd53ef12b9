"""The probes of ``overhead.py``: process trees' memory, import time, and the user's own loop (the baseline
for steps/s: the official OpenAI SDK's default client in an asyncio loop, one SQLite commit per step)."""

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from openai import AsyncOpenAI


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    command: str
    rss_mib: float


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with_children = task / "children"
        if with_children.exists():
            found += [int(child) for child in with_children.read_text().split()]
    return found


def process_tree(pid: int) -> list[ProcessMemory]:
    """The process and all its descendants with their resident memory (VmRSS)."""
    tree: list[ProcessMemory] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            command = Path(f"/proc/{current}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        tree.append(ProcessMemory(current, command.strip(), rss / 1024))
        pending += _children(current)
    return tree


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    """The CPU model and core count, for the title of a table measured on it."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    return f"{os.cpu_count()} cores of {model}, Python {sys.version.split()[0]}"


def import_seconds(statement: str, env: dict[str, str] | None = None) -> float:
    """Wall seconds of a fresh interpreter running ``statement`` (the median of three)."""
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, env={**os.environ, **(env or {})})
        runs.append(time.perf_counter() - started)
    return sorted(runs)[1]


def bare_python_rss_mib() -> float:
    """A Python process that imported nothing of ours: the floor of any process's RSS."""
    code = (
        "import pathlib;print(next(l for l in pathlib.Path('/proc/self/status').read_text().splitlines()"
        " if l.startswith('VmRSS')).split()[1])"
    )
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True).stdout) / 1024


async def _user_loop(base_url: str, steps: int, concurrency: int, db_path: Path) -> float:
    client = AsyncOpenAI(base_url=f"{base_url}/v1", api_key="emulated")
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE IF NOT EXISTS step (id INTEGER PRIMARY KEY, agent INTEGER, reply TEXT)")
    gate = asyncio.Semaphore(concurrency)

    async def one(agent: int) -> None:
        async with gate:
            reply = await client.chat.completions.create(
                model="bench",
                messages=[{"role": "system", "content": "You are agent."}, {"role": "user", "content": "hi"}],
            )
        db.execute("INSERT INTO step (agent, reply) VALUES (?, ?)", (agent, reply.model_dump_json()))
        db.commit()

    started = time.perf_counter()
    await asyncio.gather(*(one(agent) for agent in range(steps)))
    seconds = time.perf_counter() - started
    await client.close()
    db.close()
    return seconds


def user_loop_steps_per_s(base_url: str, steps: int, concurrency: int, db_path: Path) -> float:
    seconds = asyncio.run(_user_loop(base_url, steps, concurrency, db_path))
    return steps / seconds


def load_average() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f} / {five:.2f} on {os.cpu_count()} CPUs"
