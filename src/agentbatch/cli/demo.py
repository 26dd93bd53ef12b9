"""``agentbatch demo``: a batch of agents run to completion on the embedded defaults (SQLite + the
emulator), with live progress and a closing summary."""

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from agentbatch.cli.emulator_process import EmulatorProcess
from agentbatch.server import ServerThread
from agentbatch.settings import Settings

_SCRIPTS = [
    "Hi! What can you do?",
    '[[tool:core_memory_append {"label": "human", "content": "Prefers short answers."}]] Remember this.',
    '[[tool:conversation_search {"query": "hello"}]] Did we talk before?',
    '[[tool:memory_replace {"label": "human", "old_string": "Demo user", "new_string": "Returning user"}]] '
    "Update my name.",
]
_TERMINAL = ("completed", "cancelled", "expired", "failed")


def run_demo(agents: int, console: Console) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="agentbatch-demo-") as workdir,
        EmulatorProcess(latency_ms=80, jitter_ms=120) as emulator,
    ):
        os.environ.update(emulator.sdk_environment())
        settings = Settings(database_url=f"sqlite:///{Path(workdir) / 'demo.db'}")
        with ServerThread(settings) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
            console.print(f"[bold]agentbatch[/] on {server.base_url} · SQLite in {workdir}")
            console.print(f"LLM emulator on {emulator.base_url} (80 ms ± 60 ms per call)")
            ids = _create_agents(client, agents, console)
            requests = [
                {"agent_id": agent_id, "input": _SCRIPTS[i % len(_SCRIPTS)]} for i, agent_id in enumerate(ids)
            ]
            requests += [
                {"agent_id": agent_id, "input": "And a follow-up question."}
                for agent_id in ids[: agents // 4]
            ]
            started = time.monotonic()
            batch = client.post("/v1/messages/batches", json={"requests": requests}).raise_for_status().json()
            console.print(f"submitted batch {batch['id']} with {len(requests)} requests")
            final = _watch(client, batch["id"], console)
            _summary(client, final, time.monotonic() - started, ids[1], console)


def _create_agents(client: httpx.Client, count: int, console: Console) -> list[str]:
    ids = []
    with console.status(f"creating {count} agents…"):
        for index in range(count):
            body = {
                "name": f"demo-{index:04d}",
                "model": "anthropic/claude-emulated" if index % 3 == 0 else "openai/gpt-emulated",
                "memory_blocks": [{"label": "human", "value": f"Demo user number {index}."}],
            }
            ids.append(client.post("/v1/agents/", json=body).raise_for_status().json()["id"])
    console.print(f"created {count} agents (a third on the Anthropic protocol, the rest on OpenAI's)")
    return ids


def _watch(client: httpx.Client, batch_id: str, console: Console) -> dict[str, Any]:
    last_steps, last_time = 0, time.monotonic()
    rate = 0.0
    with Live(console=console, refresh_per_second=8) as live:
        while True:
            batch = client.get(f"/v1/messages/batches/{batch_id}").raise_for_status().json()
            now, steps = time.monotonic(), batch["usage"]["step_count"]
            if now > last_time:
                rate = 0.5 * rate + 0.5 * (steps - last_steps) / (now - last_time)
            last_steps, last_time = steps, now
            live.update(_progress(batch, rate))
            if batch["status"] in _TERMINAL:
                return dict(batch)
            time.sleep(0.25)


def _progress(batch: dict[str, Any], rate: float) -> Text:
    counts = batch["request_counts"]
    done = counts["succeeded"] + counts["errored"] + counts["cancelled"] + counts["expired"]
    width = 30
    filled = int(width * done / max(1, counts["total"]))
    line = Text()
    line.append("█" * filled, style="green").append("░" * (width - filled), style="dim")
    line.append(f" {done}/{counts['total']}  ")
    line.append(f"running {counts['running']}", style="yellow").append(f" · pending {counts['pending']} · ")
    line.append(f"ok {counts['succeeded']}", style="green").append(" · ")
    line.append(f"errored {counts['errored']}", style="red")
    line.append(f" · {rate:,.0f} steps/s · {batch['status']}")
    return line


def _summary(
    client: httpx.Client, batch: dict[str, Any], elapsed: float, sample: str, console: Console
) -> None:
    usage, counts = batch["usage"], batch["request_counts"]
    table = Table(title=f"batch {batch['id']}", show_header=False)
    for label, value in [
        ("status", f"{batch['status']} ({batch['stop_reason']})"),
        ("requests", ", ".join(f"{k} {v}" for k, v in counts.items() if v)),
        ("steps", f"{usage['step_count']} in {elapsed:.1f} s = {usage['step_count'] / elapsed:,.0f} steps/s"),
        ("tokens", f"{usage['prompt_tokens']:,} prompt + {usage['completion_tokens']:,} completion"),
        ("time to first token", f"{(batch['ttft_ns'] or 0) / 1e6:.0f} ms"),
        ("total duration", f"{(batch['total_duration_ns'] or 0) / 1e9:.2f} s"),
    ]:
        table.add_row(label, value)
    console.print(table)
    messages = (
        client.get(
            f"/v1/messages/batches/{batch['id']}/messages", params={"agent_id": sample, "order": "asc"}
        )
        .raise_for_status()
        .json()["messages"]
    )
    console.print(f"[bold]one agent's share of the batch[/] ({sample}):")
    for message in messages:
        text = " ".join(part.get("text", "") for part in message["content"])
        calls = ", ".join(
            f"{c['function']['name']}({c['function']['arguments']})" for c in message["tool_calls"] or []
        )
        console.print(
            f"  [cyan]{message['role']:>9}[/] " + escape((text or calls).replace("\n", " ⏎ ")[:120])
        )
