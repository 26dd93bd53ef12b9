"""Fixtures for the sandbox tests that spawn real child processes."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agentbatch.runtime.sandbox import SandboxLimits, ToolSandbox


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def process_running(pid: int) -> bool:
    """A zombie waiting for a reaper does not count: it runs nothing and holds nothing open."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def group_running(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
                return True
    return False


async def poll(condition: Callable[[], bool], within_s: float) -> bool:
    """Whether ``condition`` became true within ``within_s`` seconds, checking every 20 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.fixture
def sandbox() -> ToolSandbox:
    return ToolSandbox(SandboxLimits(timeout_s=10.0, memory_mb=256, max_output_bytes=100_000))


@pytest.fixture
def fast_timeout_sandbox() -> ToolSandbox:
    return ToolSandbox(SandboxLimits(timeout_s=1.0, memory_mb=256))


@pytest.fixture
def gone() -> Callable[[int], Awaitable[bool]]:
    """``await gone(pgid)``: whether every process of the group has ended, within two seconds."""

    async def check(pgid: int) -> bool:
        return await poll(lambda: not group_running(pgid) and not process_running(pgid), 2.0)

    return check


@pytest.fixture
def appears() -> Callable[[Path], Awaitable[bool]]:
    """``await appears(path)``: whether a file with content shows up within five seconds."""

    async def check(path: Path) -> bool:
        return await poll(lambda: path.exists() and path.stat().st_size > 0, 5.0)

    return check
