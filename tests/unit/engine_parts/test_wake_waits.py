"""``wait_until_set``: how every engine loop sleeps until woken — and a stop is never lost to a wake-up."""

import asyncio

import pytest

from agentbatch.engine.wake_waits import wait_until_set


async def test_a_cancel_arriving_as_the_event_is_set_still_stops_the_waiter() -> None:
    # asyncio.wait_for(event.wait(), ...) returns normally here on Python 3.11 (gh-86296): the worker
    # then looped on after a stop and its test hung until pytest's timeout.
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_until_set(event, 10))
    await asyncio.sleep(0)  # the waiter is now parked on the event
    event.set()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_it_says_whether_the_event_was_set_or_the_time_ran_out() -> None:
    event = asyncio.Event()
    assert await wait_until_set(event, 0.01) is False
    assert await wait_until_set(event, -5) is False  # a deadline already past waits not at all
    loop = asyncio.get_running_loop()
    loop.call_soon(event.set)
    assert await wait_until_set(event, 10) is True
