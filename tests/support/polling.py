"""Waiting for a state with a deadline (never a blind sleep)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], *, timeout: float = 30.0, interval: float = 0.02, what: str = ""
) -> T:
    """Call ``probe`` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or probe}")
        time.sleep(interval)


async def wait_for_async(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 (the same deadline as wait_for, named the same)
    interval: float = 0.02,
    what: str = "",
) -> T:
    """``wait_for`` for a coroutine probe, yielding to the event loop between tries."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or probe}")
        await asyncio.sleep(interval)
