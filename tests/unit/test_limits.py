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
