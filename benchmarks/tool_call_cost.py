"""What one custom-tool call costs: bubblewrap isolation against the unsafe plain subprocess.

Each mode runs the same trivial tool N times one call after another, the modes taking turns call by
call so that a change in the machine's load hits both alike (the cost of the sandbox itself, not of
the tool); then N calls 8 at a time per mode. The table shows min / median / p90 wall time per call,
the CPU time (user + system) of the processes one call starts (steadier than wall time on a busy
machine), and the calls per second of the concurrent run.

    .venv/bin/python benchmarks/tool_call_cost.py [--calls 50]
"""

import argparse
import asyncio
import resource
import statistics
import time

from rich.console import Console
from rich.table import Table

from agentbatch.runtime.tools.sandbox import SandboxIsolation, SandboxLimits, ToolSandbox

SOURCE = "def add(a: int, b: int) -> int:\n    return a + b\n"
CONCURRENCY = 8


def children_cpu_s() -> float:
    """CPU time of every descendant reaped so far (bubblewrap's children roll up into it)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def one_call(sandbox: ToolSandbox) -> float:
    started = time.perf_counter()
    result = await sandbox.run(SOURCE, "add", {"a": 2, "b": 3})
    elapsed = time.perf_counter() - started
    if result.return_value != "5":
        raise SystemExit(f"the tool call failed: {result}")
    return elapsed


async def one_after_another(
    modes: dict[str, ToolSandbox], calls: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Wall time of each call, and CPU seconds of the processes each mode started, per mode."""
    for sandbox in modes.values():
        await one_call(sandbox)  # warm up: the isolation probe, the page cache
    timings: dict[str, list[float]] = {name: [] for name in modes}
    cpu = dict.fromkeys(modes, 0.0)
    for _ in range(calls):
        for name, sandbox in modes.items():
            before = children_cpu_s()
            timings[name].append(await one_call(sandbox))
            cpu[name] += children_cpu_s() - before
    return timings, cpu


async def calls_per_second(sandbox: ToolSandbox, calls: int) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated() -> float:
        async with gate:
            return await one_call(sandbox)

    started = time.perf_counter()
    await asyncio.gather(*(gated() for _ in range(calls)))
    return calls / (time.perf_counter() - started)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main(calls: int) -> None:
    limits = SandboxLimits(timeout_s=30.0)
    modes = {
        "isolated (bubblewrap)": ToolSandbox(limits),
        "unsafe (plain subprocess)": ToolSandbox(
            limits, isolation=SandboxIsolation(bwrap="/nonexistent/bwrap", unsafe_without_isolation=True)
        ),
    }
    isolated = modes["isolated (bubblewrap)"]
    problem = await isolated.isolation_problem()
    if problem is not None:
        raise SystemExit(f"bubblewrap cannot isolate here: {problem}")
    table = Table(
        title=f"Cost per custom-tool call ({calls} calls per mode, {CONCURRENCY} at once for calls/s)"
    )
    columns = ("mode", "min ms", "median ms", "p90 ms", "CPU ms", f"calls/s ({CONCURRENCY} at once)")
    for column in columns:
        table.add_column(column, justify="left" if column == "mode" else "right")
    timings, cpu = await one_after_another(modes, calls)
    for name, sandbox in modes.items():
        sequential, rate = timings[name], await calls_per_second(sandbox, calls)
        table.add_row(
            name,
            f"{min(sequential) * 1000:.1f}",
            f"{statistics.median(sequential) * 1000:.1f}",
            f"{percentile(sequential, 0.9) * 1000:.1f}",
            f"{cpu[name] / calls * 1000:.1f}",
            f"{rate:.1f}",
        )
    Console().print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=50)
    asyncio.run(main(parser.parse_args().calls))
