"""Timeouts, cancellation, leftovers and concurrency: no tool outlives its call or holds up the server."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agentbatch.runtime.tools.sandbox import SandboxLimits, ToolSandbox
from tests.integration.sandbox.host_view import READ_NAMESPACE, new_marker

GRACE_S = 1.5  # the most a call may take beyond its timeout

LOOP_WITH_A_CHILD = (
    "import os, subprocess\n"
    "def f():\n"
    "    helper = subprocess.Popen(['sleep', '1000'])\n"
    f"    print({READ_NAMESPACE}, helper.pid)\n"  # no flush: the child's output is unbuffered
    "    while True:\n"
    "        pass\n"
)


async def test_an_endless_loop_is_killed_at_the_timeout_with_its_whole_group(
    fast_timeout_sandbox: ToolSandbox, namespace_gone: Callable[[str], Awaitable[bool]]
) -> None:
    started = time.monotonic()
    result = await fast_timeout_sandbox.run(LOOP_WITH_A_CHILD, "f", {})
    elapsed = time.monotonic() - started

    assert (result.status, result.return_value) == ("error", "tool timed out after 1.0 s")
    assert 1.0 <= elapsed < 1.0 + GRACE_S
    namespace, _ = result.stdout[0].split()  # what it printed before hanging is kept
    assert await namespace_gone(namespace)  # the tool and its helper alike


async def test_a_tool_sleeping_forever_is_killed_at_the_timeout(fast_timeout_sandbox: ToolSandbox) -> None:
    started = time.monotonic()
    result = await fast_timeout_sandbox.run("import time\ndef f():\n    time.sleep(10**6)\n", "f", {})
    assert (result.status, result.return_value) == ("error", "tool timed out after 1.0 s")
    assert time.monotonic() - started < 1.0 + GRACE_S


async def test_a_tool_ignoring_signals_is_still_killed(fast_timeout_sandbox: ToolSandbox) -> None:
    source = (
        "import signal, time\n"
        "def f():\n"
        "    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):\n"
        "        signal.signal(sig, signal.SIG_IGN)\n"
        "    time.sleep(10**6)\n"
    )
    started = time.monotonic()
    result = await fast_timeout_sandbox.run(source, "f", {})
    assert result.return_value == "tool timed out after 1.0 s"
    assert time.monotonic() - started < 1.0 + GRACE_S


async def test_processes_a_finished_tool_leaves_behind_are_killed_without_waiting(
    sandbox: ToolSandbox, namespace_gone: Callable[[str], Awaitable[bool]]
) -> None:
    source = (
        "import os, subprocess\n"
        "def f():\n"
        "    subprocess.Popen(['sleep', '1000'])\n"  # inherits stdout: holds the pipe open
        f"    return {READ_NAMESPACE}\n"
    )
    started = time.monotonic()
    result = await sandbox.run(source, "f", {})
    assert result.status == "success"
    assert time.monotonic() - started < GRACE_S
    assert await namespace_gone(result.return_value)


async def test_threads_left_running_do_not_hold_the_call_open(sandbox: ToolSandbox) -> None:
    source = (
        "import threading, time\n"
        "def f():\n"
        "    threading.Thread(target=time.sleep, args=(1000,)).start()\n"
        "    return 'returned'\n"
    )
    started = time.monotonic()
    result = await sandbox.run(source, "f", {})
    assert (result.status, result.return_value) == ("success", "returned")
    assert time.monotonic() - started < GRACE_S


async def test_cancelling_the_awaiting_task_kills_the_tool_and_propagates(
    sandbox: ToolSandbox,
    namespace_gone: Callable[[str], Awaitable[bool]],
    scratch_appears: Callable[[str], Awaitable[Path | None]],
) -> None:
    marker = new_marker()
    source = (
        "import os, time\n"
        "def f(marker):\n"
        "    with open(marker + '.tmp', 'w') as handle:\n"
        f"        handle.write({READ_NAMESPACE})\n"
        "    os.rename(marker + '.tmp', marker)\n"
        "    time.sleep(10**6)\n"
    )
    call = asyncio.create_task(sandbox.run(source, "f", {"marker": marker}))
    report = await scratch_appears(marker)
    assert report is not None
    namespace = report.read_text()

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await namespace_gone(namespace)
    assert not report.parent.exists()


async def test_many_calls_run_at_once_without_sharing_anything(sandbox: ToolSandbox) -> None:
    source = (
        "import os, time\n"
        "def f(n):\n"
        "    time.sleep(0.4)\n"
        "    print('call', n)\n"
        "    with open('mine.txt', 'a') as handle:\n"  # each call has its own directory
        "        handle.write(str(n))\n"
        "    with open('mine.txt') as handle:\n"
        f"        return {{'n': n, 'seen': handle.read(), 'namespace': {READ_NAMESPACE}}}\n"
    )
    started = time.monotonic()
    results = await asyncio.gather(*(sandbox.run(source, "f", {"n": n}) for n in range(8)))
    elapsed = time.monotonic() - started

    assert elapsed < 8 * 0.4  # they overlapped
    seen = [json.loads(result.return_value) for result in results]
    assert [(item["n"], item["seen"]) for item in seen] == [(n, str(n)) for n in range(8)]
    assert [result.stdout for result in results] == [[f"call {n}"] for n in range(8)]
    assert len({item["namespace"] for item in seen}) == 8


async def test_a_slow_tool_does_not_hold_up_other_calls(sandbox: ToolSandbox) -> None:
    # The quick call must end well before the slow one's timeout; 3 s leaves room on a busy machine.
    slow_sandbox = ToolSandbox(SandboxLimits(timeout_s=3.0, memory_mb=256))
    slow = asyncio.create_task(slow_sandbox.run("def f():\n    while True: pass\n", "f", {}))
    started = time.monotonic()
    quick = await sandbox.run("def f():\n    return 'quick'\n", "f", {})
    assert quick.return_value == "quick"
    assert time.monotonic() - started < 2.5
    assert (await slow).return_value == "tool timed out after 3.0 s"
