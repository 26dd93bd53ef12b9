"""Waiting for a wake-up event or a timeout, whichever comes first: how every engine loop sleeps.

Not ``asyncio.wait_for(event.wait(), timeout)``: on Python 3.11 it swallows a cancel that arrives in the
same turn of the loop as the event is set (it returns the result instead; CPython gh-86296, fixed in
3.12). The worker's wake-up is set each time a turn ends, so a stop racing the last turn's end was lost
and the worker loop ran on for ever; ``asyncio.timeout`` re-raises such a cancel."""

import asyncio


async def wait_until_set(event: asyncio.Event, timeout_s: float) -> bool:
    """Until ``event`` is set or ``timeout_s`` (at least 0) passed; whether it is set."""
    try:
        async with asyncio.timeout(max(0.0, timeout_s)):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
