"""The per-model limit that live workers share, resized while calls wait."""

import asyncio

from agentbatch.engine.limits import AdjustableLimit, share_of


def test_workers_split_a_limit_evenly_and_never_below_one_call() -> None:
    assert [share_of(64, n) for n in (0, 1, 2, 3, 64, 100)] == [64, 64, 32, 21, 1, 1]


async def test_lowering_the_limit_holds_new_calls_until_enough_have_finished() -> None:
    limit = AdjustableLimit(4)
    inside: list[int] = []
    release = asyncio.Event()

    async def call(n: int) -> None:
        async with limit.slot():
            inside.append(n)
            await release.wait()

    first = [asyncio.create_task(call(n)) for n in range(4)]
    await asyncio.sleep(0)
    assert limit.in_use == 4
    await limit.set_limit(2)
    late = [asyncio.create_task(call(n)) for n in range(4, 6)]
    await asyncio.sleep(0)
    assert limit.in_use == 4 and sorted(inside) == [0, 1, 2, 3]  # in flight: allowed to finish

    release.set()
    await asyncio.gather(*first, *late)
    assert sorted(inside) == [0, 1, 2, 3, 4, 5] and limit.in_use == 0


async def test_raising_the_limit_lets_waiting_calls_in() -> None:
    limit = AdjustableLimit(1)
    release = asyncio.Event()
    entered = asyncio.Event()
    count = 0

    async def call() -> None:
        nonlocal count
        async with limit.slot():
            count += 1
            if count == 3:
                entered.set()
            await release.wait()

    tasks = [asyncio.create_task(call()) for _ in range(3)]
    await asyncio.sleep(0)
    assert limit.in_use == 1
    await limit.set_limit(3)
    await entered.wait()
    assert limit.in_use == 3
    release.set()
    await asyncio.gather(*tasks)


async def test_a_waiter_cancelled_just_after_its_wake_up_passes_the_free_slot_on() -> None:
    """The race behind items held by idle workers: a slot is released with a wake-up for the first
    waiter, and that waiter is cancelled in the same tick (its turn's lease was lost). The wake-up
    must reach the next waiter, or that one waits forever beside a free slot."""
    limit = AdjustableLimit(1)
    holder = limit.slot()
    await holder.__aenter__()
    entered: list[str] = []

    async def call(name: str) -> None:
        async with limit.slot():
            entered.append(name)

    first = asyncio.create_task(call("first"))
    second = asyncio.create_task(call("second"))
    for _ in range(5):
        await asyncio.sleep(0)  # both now wait for the slot
    assert limit.in_use == 1 and entered == []

    await holder.__aexit__(None, None, None)  # frees the slot and wakes `first`, without yielding
    first.cancel()  # … which is cancelled before it could run

    await asyncio.wait_for(second, timeout=1.0)  # today: TimeoutError, the wake-up was swallowed
    assert entered == ["second"] and limit.in_use == 0
    assert first.cancelled()
