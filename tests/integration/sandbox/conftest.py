"""Fixtures for the sandbox tests that spawn real child processes."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agentbatch.runtime.tools.sandbox import SandboxLimits, ToolSandbox
from tests.integration.sandbox.host_view import pid_namespace_alive, scratch_files


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
def namespace_gone() -> Callable[[str], Awaitable[bool]]:
    """``await namespace_gone(ns)``: whether every process of the PID namespace ended within two seconds."""

    async def check(namespace: str) -> bool:
        return await poll(lambda: not pid_namespace_alive(namespace), 2.0)

    return check


@pytest.fixture
def scratch_appears() -> Callable[[str], Awaitable[Path | None]]:
    """``await scratch_appears(marker)``: the marker file a running tool wrote into its scratch
    directory, once it has content (within five seconds), else None."""

    async def check(marker: str) -> Path | None:
        def found() -> bool:
            return any(path.stat().st_size > 0 for path in scratch_files(marker) if path.exists())

        if not await poll(found, 5.0):
            return None
        return scratch_files(marker)[0]

    return check
