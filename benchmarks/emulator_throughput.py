"""Throughput and CPU cost of the LLM emulator (``agentbatch mock-llm``) at 0 ms latency.

Starts the emulator in a subprocess pinned to CPU 0 (this process and its clients go to CPU 1
when the machine has two or more), drives ``POST /v1/chat/completions`` and ``POST /v1/messages``
with many concurrent keep-alive clients for a few seconds each, and prints requests/s and the
emulator's CPU time per request (from /proc, so Linux only; shown as "n/a" elsewhere).

    python benchmarks/emulator_throughput.py [--seconds 3] [--concurrency 64] [--client raw|sdk]

``raw`` clients are bare aiohttp requests (the cheapest client, so the emulator is measured rather
than the client); ``sdk`` uses the official AsyncOpenAI / AsyncAnthropic clients over aiohttp.
When the client side saturates its core first, "capacity" (1 s / CPU per request) is the rate the
emulator would sustain on one full core.
"""

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

SYSTEM = "You are a helpful assistant that answers briefly and calls tools when asked to."
TOOLS_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string", "description": "The message to send to the user."}},
    "required": ["message"],
}
OPENAI_BODY = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Please summarise the plot of a short story about a lighthouse keeper."},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "send_message",
                "description": "Send a message.",
                "parameters": TOOLS_SCHEMA,
            },
        }
    ],
    "tool_choice": "required",
}
ANTHROPIC_BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 1024,
    "system": SYSTEM,
    "messages": [
        {"role": "user", "content": "Please summarise the plot of a short story about a lighthouse keeper."}
    ],
    "tools": [{"name": "send_message", "description": "Send a message.", "input_schema": TOOLS_SCHEMA}],
    "tool_choice": {"type": "any"},
}


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    failures: int
    seconds: float
    cpu_s: float | None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def row(self) -> str:
        cpu_us = (
            f"{self.cpu_s / self.requests * 1e6:8.1f}"
            if self.cpu_s is not None and self.requests
            else "     n/a"
        )
        busy = f"{self.cpu_s / self.seconds * 100:5.0f}%" if self.cpu_s is not None else "  n/a"
        capacity = f"{self.requests / self.cpu_s:9.0f}" if self.cpu_s and self.requests else "      n/a"
        return f"{self.name:<28} {self.rate:9.0f} {cpu_us} {busy} {capacity} {self.failures:6d}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_accepting(port: int, process: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("the emulator did not start accepting connections")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` (Linux /proc), or None where /proc is unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pin(pid: int, cpus: set[int]) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(pid, cpus)


async def drive(
    call: Callable[[], Awaitable[bool]], concurrency: int, seconds: float
) -> tuple[int, int, float]:
    """Run ``concurrency`` loops of ``call`` for ``seconds``; (successes, failures, elapsed)."""
    counts = [0, 0]
    deadline = time.monotonic() + seconds

    async def loop() -> None:
        while time.monotonic() < deadline:
            counts[0 if await call() else 1] += 1

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return counts[0], counts[1], time.monotonic() - started


def raw_calls(session: aiohttp.ClientSession, base: str) -> dict[str, Callable[[], Awaitable[bool]]]:
    openai_payload, anthropic_payload = orjson.dumps(OPENAI_BODY), orjson.dumps(ANTHROPIC_BODY)
    json_header = {"content-type": "application/json", "authorization": "Bearer x"}
    anthropic_headers = {**json_header, "x-api-key": "x", "anthropic-version": "2023-06-01"}

    async def openai_call() -> bool:
        async with session.post(
            f"{base}/v1/chat/completions", data=openai_payload, headers=json_header
        ) as reply:
            await reply.read()
            return reply.status == 200

    async def anthropic_call() -> bool:
        async with session.post(
            f"{base}/v1/messages", data=anthropic_payload, headers=anthropic_headers
        ) as reply:
            await reply.read()
            return reply.status == 200

    return {"OpenAI chat completions": openai_call, "Anthropic messages": anthropic_call}


@contextlib.asynccontextmanager
async def sdk_calls(base: str) -> AsyncIterator[dict[str, Callable[[], Awaitable[bool]]]]:
    import anthropic
    import openai

    async with (
        openai.AsyncOpenAI(
            base_url=f"{base}/v1", api_key="x", max_retries=0, http_client=openai.DefaultAioHttpClient()
        ) as openai_client,
        anthropic.AsyncAnthropic(
            base_url=base, api_key="x", max_retries=0, http_client=anthropic.DefaultAioHttpClient()
        ) as anthropic_client,
    ):

        async def openai_call() -> bool:
            reply = await openai_client.chat.completions.create(**OPENAI_BODY)  # type: ignore[call-overload]
            return bool(reply.choices)

        async def anthropic_call() -> bool:
            reply = await anthropic_client.messages.create(**ANTHROPIC_BODY)  # type: ignore[call-overload]
            return bool(reply.content)

        yield {"OpenAI chat (SDK)": openai_call, "Anthropic messages (SDK)": anthropic_call}


@contextlib.asynccontextmanager
async def raw_session(base: str, concurrency: int) -> AsyncIterator[dict[str, Callable[[], Awaitable[bool]]]]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        yield raw_calls(session, base)


async def measure(base: str, pid: int, args: argparse.Namespace) -> list[Result]:
    results = []
    clients = raw_session(base, args.concurrency) if args.client == "raw" else sdk_calls(base)
    async with clients as calls:
        for name, call in calls.items():
            await drive(call, args.concurrency, args.warmup)
            cpu_before = cpu_seconds(pid)
            ok, failed, elapsed = await drive(call, args.concurrency, args.seconds)
            cpu_after = cpu_seconds(pid)
            cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
            results.append(Result(name, ok, failed, elapsed, cpu))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=0.5, help="unmeasured seconds before each run")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent client loops")
    parser.add_argument("--client", choices=("raw", "sdk"), default="raw")
    args = parser.parse_args()

    port = free_port()
    command = [sys.executable, "-m", "agentbatch.emulator", "--port", str(port), "--batch-delay-s", "1"]
    process = subprocess.Popen(command)
    try:
        pin(process.pid, {0})
        pin(0, {1})
        wait_until_accepting(port, process)
        results = asyncio.run(measure(f"http://127.0.0.1:{port}", process.pid, args))
    finally:
        process.terminate()
        process.wait(timeout=10)

    print(f"\nemulator: pid {process.pid} pinned to CPU 0; {args.concurrency} {args.client} clients on CPU 1")
    print(f"{'endpoint':<28} {'req/s':>9} {'CPU µs/req':>8} {'busy':>5} {'capacity':>9} {'failed':>6}")
    for result in results:
        print(result.row())
    print("busy = emulator CPU / wall time; capacity = req/s the emulator could serve on one full core")


if __name__ == "__main__":
    main()
