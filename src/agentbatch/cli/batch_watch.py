"""``agentbatch batches watch``: a live progress bar until the batch ends; the exit code says how."""

import time
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.text import Text

from agentbatch.cli.api_client import call

EXIT_CODES = {"completed": 0, "failed": 1, "cancelled": 2, "expired": 3}
TERMINAL = frozenset(EXIT_CODES)
_BAR_WIDTH = 30


def progress_line(batch: dict[str, Any], steps_per_s: float | None, eta_s: float | None) -> Text:
    counts = batch.get("request_counts") or {}
    total = max(1, int(counts.get("total") or 0))
    done = sum(int(counts.get(key) or 0) for key in ("succeeded", "errored", "cancelled", "expired"))
    filled = int(_BAR_WIDTH * done / total)
    line = Text()
    line.append(f"{batch['id']} ", style="bold")
    line.append(f"{batch['status']:<9} ")
    line.append("█" * filled, style="green")
    line.append("░" * (_BAR_WIDTH - filled), style="dim")
    line.append(f" {done}/{total}  ")
    for key, style in (
        ("pending", "dim"),
        ("running", "cyan"),
        ("succeeded", "green"),
        ("errored", "red"),
        ("cancelled", "yellow"),
        ("expired", "yellow"),
    ):
        line.append(f"{key} {int(counts.get(key) or 0)}  ", style=style)
    if steps_per_s is not None:
        line.append(f"{steps_per_s:,.1f} steps/s  ")
    if eta_s is not None:
        line.append(f"ETA {int(eta_s) // 60}m{int(eta_s) % 60:02d}s  ")
    cost_total = (batch.get("cost") or {}).get("total")
    if cost_total is not None:
        line.append(f"cost ${float(cost_total):,.4f}")
    return line


def _done(batch: dict[str, Any]) -> int:
    counts = batch.get("request_counts") or {}
    return sum(int(counts.get(key) or 0) for key in ("succeeded", "errored", "cancelled", "expired"))


def _steps(batch: dict[str, Any]) -> int:
    return int((batch.get("usage") or {}).get("step_count") or 0)


def watch(client: httpx.Client, batch_id: str, console: Console, interval_s: float = 1.0) -> int:
    """Follow the batch until it ends; returns the exit code for its final status."""
    started = time.monotonic()
    batch = call(client, "GET", f"/v1/messages/batches/{batch_id}")
    first_done, first_steps = _done(batch), _steps(batch)
    with Live(
        progress_line(batch, None, None), console=console, refresh_per_second=4, transient=False
    ) as live:
        while batch["status"] not in TERMINAL:
            time.sleep(interval_s)
            batch = call(client, "GET", f"/v1/messages/batches/{batch_id}")
            elapsed = max(1e-6, time.monotonic() - started)
            rate = (_done(batch) - first_done) / elapsed
            total = int((batch.get("request_counts") or {}).get("total") or 0)
            eta = (total - _done(batch)) / rate if rate > 0 else None
            live.update(progress_line(batch, (_steps(batch) - first_steps) / elapsed, eta))
    return EXIT_CODES.get(batch["status"], 1)
