"""Calls/s and client CPU per model call of the provider adapters, against the emulator at 0 ms latency.

Starts the emulator in a subprocess (``python -m agentbatch.emulator``) pinned to CPU 0 and pins this
process to CPU 1 (when ``os.sched_setaffinity`` exists and there are two CPUs or more). For each
variant and history size it runs ``--concurrency`` loops of one model call for ``--seconds`` and
reports calls/s and this process's CPU time per call (``time.process_time()`` deltas, all threads).

    python benchmarks/provider_call_cpu.py [--seconds 3] [--concurrency 64] [--sizes 2,10,40]

Variants (every one starts from the same neutral ``ModelRequest``, so the translation is included):

* ``OpenAI/Anthropic over HttpTransport``: the default transport of a direct call (decision 0012): our
  keep-alive HTTP/1.1 client, no SDK.

* ``OpenAIChat`` / ``AnthropicChat``: the adapters over the SDK transport (``WireChat.in_process``:
  aiohttp transport, the body handed over in ``extra_body``, the raw reply read with orjson into a
  ``ModelResponse``).
* ``openai plain (httpx)``: ``client.chat.completions.create(model=, messages=, tools=, ...)`` on
  the SDK's default httpx client, returning the typed ``ChatCompletion`` (no neutral conversion).
* ``openai plain (aiohttp)``: the same typed call on the aiohttp transport: what aiohttp alone buys.
* ``openai extra_body+raw (httpx)``: the adapter's call on the default httpx client: what
  ``extra_body`` and raw JSON alone buy.
* ``anthropic plain (httpx)``: ``client.messages.create(...)`` on the default httpx client, typed.
* ``anthropic messages in extra_body``: ``AnthropicChat``'s call with ``messages`` moved into
  ``extra_body`` too (the adapter passes it as the typed ``messages=`` argument, which the SDK walks).

A history of N messages is N neutral messages cycling user → assistant tool call → tool result →
assistant text (a trailing unanswered tool call becomes assistant text), with an agent's usual
request around it: a system prompt, ``send_message`` and one other tool, ``tool_choice="required"``.
"""

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import anthropic
import openai
import orjson

from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn, text_part
from agentbatch.providers import anthropic_wire, openai_wire
from agentbatch.providers.base import ModelRequest, ToolSpec
from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.wire_chat import WireChat

EMULATOR_CPU, CLIENT_CPU = 0, 1
START_DEADLINE_S = 20.0
SYSTEM = (
    "You are a helpful assistant with a persistent memory. Answer briefly, call tools when asked to, "
    "and always reply to the user through send_message."
)
TOOLS = (
    ToolSpec(
        "send_message",
        "Sends a message to the human user.",
        {
            "type": "object",
            "properties": {"message": {"type": "string", "description": "Message contents."}},
            "required": ["message"],
        },
    ),
    ToolSpec(
        "archival_memory_search",
        "Search archival memory using semantic (embedding-based) search.",
        {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "String to search for."},
                "page": {"type": "integer", "description": "Page of results to return."},
            },
            "required": ["query"],
        },
    ),
)
USER_TEXT = (
    "Could you look up what we discussed about the lighthouse keeper story last week and summarise it?"
)
ASSISTANT_TEXT = "Here is the summary: the keeper stays through the storm, and the ship makes it to harbour."
TOOL_RESULT = '{"status": "OK", "results": ["The keeper refuses to leave the lighthouse during the storm."]}'

Call = Callable[[ModelRequest], Awaitable[object]]


def history(size: int) -> list[Message]:
    """``size`` neutral messages: user → assistant tool call → tool result → assistant text, repeated."""
    created = datetime(2025, 1, 1, tzinfo=UTC)
    messages: list[Message] = []
    for index in range(size):
        step, cycle = index % 4, index // 4
        call = ToolCall(f"call_{cycle:04d}", "archival_memory_search", '{"query": "lighthouse keeper"}')
        if step == 0:
            messages.append(Message(f"m{index}", "agent", Role.USER, created, [text_part(USER_TEXT)]))
        elif step == 1 and index < size - 1:
            messages.append(Message(f"m{index}", "agent", Role.ASSISTANT, created, tool_calls=[call]))
        elif step == 2:
            ret = ToolReturn(call.id, "success", TOOL_RESULT)
            messages.append(
                Message(
                    f"m{index}",
                    "agent",
                    Role.TOOL,
                    created,
                    [text_part(TOOL_RESULT)],
                    tool_call_id=call.id,
                    tool_returns=[ret],
                )
            )
        else:
            messages.append(
                Message(f"m{index}", "agent", Role.ASSISTANT, created, [text_part(ASSISTANT_TEXT)])
            )
    return messages


def model_request(size: int) -> ModelRequest:
    return ModelRequest(
        model="gpt-4o-mini", system=SYSTEM, messages=history(size), tools=TOOLS, tool_choice="required"
    )


@contextlib.asynccontextmanager
async def variants(base: str) -> AsyncIterator[dict[str, Call]]:
    """Each way of making the call, keyed by the name shown in the table."""
    adapter_openai = WireChat.in_process(WireProtocol.OPENAI, base_url=f"{base}/v1", api_key="x")
    adapter_anthropic = WireChat.in_process(WireProtocol.ANTHROPIC, base_url=base, api_key="x")
    http_openai = WireChat.over_http(WireProtocol.OPENAI, base_url=f"{base}/v1", api_key="x")
    http_anthropic = WireChat.over_http(WireProtocol.ANTHROPIC, base_url=base, api_key="x")
    plain_httpx = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0)
    plain_aiohttp = openai.AsyncOpenAI(
        base_url=f"{base}/v1", api_key="x", max_retries=0, http_client=openai.DefaultAioHttpClient()
    )
    anthropic_httpx = anthropic.AsyncAnthropic(base_url=base, api_key="x", max_retries=0)
    anthropic_aiohttp = anthropic.AsyncAnthropic(
        base_url=base, api_key="x", max_retries=0, http_client=anthropic.DefaultAioHttpClient()
    )

    def typed(client: openai.AsyncOpenAI) -> Call:
        async def call(request: ModelRequest) -> object:
            body = openai_wire.request_body(request)
            completion = await client.chat.completions.create(
                model=body["model"],
                messages=body["messages"],
                tools=body["tools"],
                tool_choice=body["tool_choice"],
                parallel_tool_calls=body["parallel_tool_calls"],
            )
            return completion.choices[0].message

        return call

    async def extra_body_raw_httpx(request: ModelRequest) -> object:
        body = openai_wire.request_body(request)
        model = body.pop("model")
        raw = await plain_httpx.chat.completions.with_raw_response.create(
            model=model, messages=[], extra_body=body
        )
        return openai_wire.parse_response(orjson.loads(raw.content))

    async def anthropic_typed(request: ModelRequest) -> object:
        body = anthropic_wire.request_body(request)
        message = await anthropic_httpx.messages.create(**body)
        return message.content

    async def anthropic_all_extra_body(request: ModelRequest) -> object:
        body = anthropic_wire.request_body(request)
        raw = await anthropic_aiohttp.messages.with_raw_response.create(
            model=body.pop("model"), max_tokens=body.pop("max_tokens"), messages=[], extra_body=body
        )
        return anthropic_wire.parse_response(orjson.loads(await raw.read()))

    try:
        yield {
            "OpenAI over HttpTransport (default)": http_openai.complete,
            "Anthropic over HttpTransport (default)": http_anthropic.complete,
            "OpenAIChat (adapter)": adapter_openai.complete,
            "openai plain (httpx)": typed(plain_httpx),
            "openai plain (aiohttp)": typed(plain_aiohttp),
            "openai extra_body+raw (httpx)": extra_body_raw_httpx,
            "AnthropicChat (adapter)": adapter_anthropic.complete,
            "anthropic plain (httpx)": anthropic_typed,
            "anthropic messages in extra_body": anthropic_all_extra_body,
        }
    finally:
        await adapter_openai.close()
        await adapter_anthropic.close()
        await http_openai.close()
        await http_anthropic.close()
        await plain_httpx.close()
        await plain_aiohttp.close()
        await anthropic_httpx.close()
        await anthropic_aiohttp.close()


@dataclass(frozen=True)
class Result:
    variant: str
    size: int
    calls: int
    failures: int
    seconds: float
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / max(self.calls, 1) * 1e6


async def drive(
    call: Call, request: ModelRequest, concurrency: int, seconds: float
) -> tuple[int, int, float, float]:
    """``concurrency`` loops of ``call`` for ``seconds``: (successes, failures, wall s, CPU s)."""
    counts = [0, 0]
    deadline = time.monotonic() + seconds

    async def loop() -> None:
        while time.monotonic() < deadline:
            try:
                await call(request)
                counts[0] += 1
            except Exception:
                counts[1] += 1

    cpu, started = time.process_time(), time.monotonic()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return counts[0], counts[1], time.monotonic() - started, time.process_time() - cpu


async def measure(base: str, args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    async with variants(base) as calls:
        for name, call in calls.items():
            for size in args.sizes:
                request = model_request(size)
                await drive(call, request, args.concurrency, args.warmup)
                ok, failed, wall, cpu = await drive(call, request, args.concurrency, args.seconds)
                results.append(Result(name, size, ok, failed, wall, cpu))
                print(f"  {name:<34} {size:>3} messages: {ok / wall:7.0f} calls/s", file=sys.stderr)
    return results


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "agentbatch.emulator", "--port", str(port), "--batch-delay-s", "1"]
    if can_pin():  # pinned before exec, so every thread the emulator starts inherits it
        return subprocess.Popen(command, preexec_fn=lambda: os.sched_setaffinity(0, {EMULATOR_CPU}))
    return subprocess.Popen(command)


def wait_until_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=0.5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"the emulator did not answer its health check within {START_DEADLINE_S:.0f} s")


def body_kb(size: int) -> tuple[float, float]:
    request = model_request(size)
    return (
        len(orjson.dumps(openai_wire.request_body(request))) / 1024,
        len(orjson.dumps(anthropic_wire.request_body(request))) / 1024,
    )


def print_table(results: list[Result], args: argparse.Namespace, pinned: bool) -> None:
    placement = (
        f"emulator on CPU {EMULATOR_CPU}, this process on CPU {CLIENT_CPU}" if pinned else "not pinned"
    )
    print(f"\n{args.concurrency} concurrent calls, {args.seconds:g} s per row; {placement}")
    sizes = ", ".join(f"{size}: {o:.1f} / {a:.1f} KB" for size in args.sizes for o, a in [body_kb(size)])
    print(f"request body (OpenAI / Anthropic) by history size: {sizes}")
    baseline = {
        (protocol, r.size): r
        for r in results
        for protocol in ("openai", "anthropic")
        if r.variant == f"{protocol} plain (httpx)"
    }
    header = f"{'variant':<34} {'msgs':>4} {'calls/s':>8} {'CPU µs/call':>11} {'vs plain':>8} {'failed':>6}"
    print(header)
    print("-" * len(header))
    for result in results:
        protocol = "openai" if result.variant.lower().startswith("openai") else "anthropic"
        plain = baseline.get((protocol, result.size))
        relative = f"{result.cpu_us / plain.cpu_us:7.2f}x" if plain else ""
        print(
            f"{result.variant:<34} {result.size:>4} {result.rate:>8.0f} {result.cpu_us:>11.0f} "
            f"{relative:>8} {result.failures:>6}"
        )
    print("vs plain = CPU per call relative to the same protocol's plain SDK call on httpx, same history")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per row")
    parser.add_argument("--warmup", type=float, default=0.5, help="unmeasured seconds before each row")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent call loops")
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[2, 10, 40],
        help="history sizes",
    )
    args = parser.parse_args()

    pinned = can_pin()
    if pinned:
        os.sched_setaffinity(0, {CLIENT_CPU})
    port = free_port()
    process = start_emulator(port)
    try:
        wait_until_healthy(port, process)
        results = asyncio.run(measure(f"http://127.0.0.1:{port}", args))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    print_table(results, args, pinned)


if __name__ == "__main__":
    main()
