"""The lease keeper renews what live turns hold and stops turns whose item was taken away."""

import asyncio
from datetime import UTC, datetime, timedelta

from agentbatch.engine.leases import LeaseKeeper
from agentbatch.store.memory_work_queue import MemoryWorkQueue
from agentbatch.store.work_queue import ClaimSlots
from tests.support.polling import wait_for_async
from tests.unit.engine.harness import new_items

NOW = datetime.now(UTC)


async def _two_held(queue: MemoryWorkQueue, keeper: LeaseKeeper) -> list["asyncio.Task[None]"]:
    queue.add_batch("b1", new_items("i", 1), NOW)
    queue.add_batch("b2", new_items("j", 1), NOW)
    claimed = await queue.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + timedelta(seconds=5), now=NOW)
    turns = []
    for item in claimed:
        turn = asyncio.create_task(asyncio.sleep(3600))
        keeper.track(item.id, item.batch_id, turn)
        turns.append(turn)
    return turns


async def test_renewal_extends_held_leases_and_stops_turns_whose_item_was_taken() -> None:
    queue = MemoryWorkQueue()
    keeper = LeaseKeeper(queue, "w1", lease_seconds=600)
    kept, taken = await _two_held(queue, keeper)
    queue.items["j0"].lease_owner = "w2"  # reclaimed elsewhere after a stall

    await keeper.renew()

    assert (queue.items["i0"].lease_expires_at or NOW) > NOW + timedelta(seconds=500)
    await asyncio.gather(taken, return_exceptions=True)
    assert taken.cancelled() and not kept.cancelled()
    kept.cancel()


async def test_an_untracked_item_is_not_renewed() -> None:
    queue = MemoryWorkQueue()
    keeper = LeaseKeeper(queue, "w1", lease_seconds=600)
    turns = await _two_held(queue, keeper)
    keeper.untrack("j0")

    await keeper.renew()

    assert queue.items["j0"].lease_expires_at == NOW + timedelta(seconds=5), "left to expire"
    assert keeper.held == 1
    for turn in turns:
        turn.cancel()


async def test_a_batch_ended_elsewhere_stops_its_turns_here() -> None:
    queue = MemoryWorkQueue()
    keeper = LeaseKeeper(queue, "w1", lease_seconds=600)
    other, cancelled = await _two_held(queue, keeper)
    watching = asyncio.create_task(keeper.watch_ended_batches(interval_s=0.001))
    try:
        await queue.cancel_batch("b2", NOW, None)  # by another process: no signal here

        await wait_for_async(lambda: _done(cancelled), timeout=5, interval=0.001, what="the turn to stop")
    finally:
        watching.cancel()
    assert cancelled.cancelled() and not other.done()
    other.cancel()


async def _done(task: "asyncio.Task[None]") -> bool:
    return task.done()
