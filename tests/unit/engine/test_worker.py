"""The worker claims within its share of the per-model limit and refills slots as turns end."""

import asyncio
from datetime import UTC, datetime, timedelta

from agentbatch.domain.states import ItemStatus
from agentbatch.engine.membership import Membership
from agentbatch.engine.sweeper import Sweeper
from agentbatch.engine.worker import Worker
from agentbatch.store.memory_work_queue import MemoryWorkQueue
from tests.support.polling import wait_for_async
from tests.unit.engine.harness import Engine, engine, new_items

LEASE = timedelta(seconds=30)


def _worker(e: Engine, *, turns_per_model: int) -> tuple[Worker, Membership]:
    membership = Membership(e.queue, e.leases.worker_id, turns_per_model=turns_per_model, lease=LEASE)
    sweeper = Sweeper(e.queue, e.leases, e.signals, forget_workers_after=20 * LEASE)
    worker = Worker(e.queue, e.turns, e.leases, e.signals, membership, sweeper, poll_interval_s=0.01)
    return worker, membership


def _running(queue: MemoryWorkQueue) -> int:
    return sum(item.status is ItemStatus.RUNNING for item in queue.items.values())


async def test_a_claim_takes_no_more_turns_than_the_limit_per_model() -> None:
    async with engine() as e:
        e.runner.hold = True
        now = datetime.now(UTC)
        e.queue.add_batch(
            "b1", new_items("x", 6, model="openai/x") + new_items("y", 2, model="openai/y"), now
        )
        worker, _ = _worker(e, turns_per_model=4)

        claimed = await worker.claim_and_run(models=None, at_least=1)

        assert sorted(item.id for item in claimed) == ["x0", "x1", "x2", "x3", "y0", "y1"]
        assert await worker.claim_and_run(models=None, at_least=1) == [], "every slot of x is taken"
        e.runner.release()


async def test_another_live_worker_halves_this_workers_share() -> None:
    async with engine() as e:
        e.runner.hold = True
        now = datetime.now(UTC)
        await e.queue.register_worker("w2", "elsewhere", 2, now)
        e.queue.add_batch("b1", new_items("i", 6), now)
        worker, membership = _worker(e, turns_per_model=4)
        await membership.join("here", 1)

        claimed = await worker.claim_and_run(models=None, at_least=1)

        assert (membership.workers, membership.turn_cap, len(claimed)) == (2, 2, 2)
        e.runner.release()


async def test_the_running_worker_drains_a_batch_refilling_slots_as_turns_end() -> None:
    async with engine() as e:
        now = datetime.now(UTC)
        e.queue.add_batch("b1", new_items("i", 40), now)
        worker, _ = _worker(e, turns_per_model=4)
        running = asyncio.create_task(worker.run())
        try:
            await wait_for_async(
                lambda: _all_done(e.queue), timeout=10, interval=0.005, what="every item to end"
            )
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        assert worker.turns_finished == 40
        assert e.queue.workers == {}, "a clean stop leaves the registry"


async def test_a_clean_stop_hands_the_workers_items_back() -> None:
    async with engine() as e:
        e.runner.hold = True
        e.queue.add_batch("b1", new_items("i", 3), datetime.now(UTC))
        worker, _ = _worker(e, turns_per_model=4)
        running = asyncio.create_task(worker.run())
        await wait_for_async(lambda: _started(e, 3), timeout=10, interval=0.005, what="three turns to start")

        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

        assert {item.status for item in e.queue.items.values()} == {ItemStatus.PENDING}


async def _all_done(queue: MemoryWorkQueue) -> bool:
    return all(item.status is ItemStatus.SUCCEEDED for item in queue.items.values())


async def _started(e: Engine, count: int) -> bool:
    return len(e.runner.started) >= count
