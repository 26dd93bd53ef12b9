"""Membership splits the limits between live workers; the sweeper hands expired leases on."""

import asyncio
from datetime import UTC, datetime, timedelta

from agentbatch.domain.states import BatchStatus, ItemStatus
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.engine.membership import Membership
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.sweeper import Sweeper
from agentbatch.store.memory_work_queue import MemoryWorkQueue
from agentbatch.store.work_queue import ClaimSlots
from tests.unit.engine.harness import new_items

LEASE = timedelta(seconds=30)


class _Gateway:
    def __init__(self) -> None:
        self.shares: list[int] = []

    async def share_with(self, workers: int) -> None:
        self.shares.append(workers)


async def test_live_workers_split_the_limits_and_a_silent_one_stops_counting() -> None:
    queue, gateway = MemoryWorkQueue(), _Gateway()
    now = datetime.now(UTC)
    await queue.register_worker("w2", "elsewhere", 2, now)
    await queue.register_worker("w3", "elsewhere", 3, now - 2 * LEASE)  # silent for two leases
    membership = Membership(queue, "w1", turns_per_model=9, lease=LEASE, gateway=gateway)

    await membership.join("here", 1)
    assert (membership.workers, membership.turn_cap) == (2, 4)

    queue.workers["w2"] = now - 2 * LEASE  # w2 goes silent
    await membership.refresh()

    assert (membership.workers, membership.turn_cap) == (1, 9)
    assert gateway.shares == [2, 1]
    assert queue.workers["w1"] >= now, "a refresh shows this worker's heartbeat"


async def test_a_share_never_falls_below_one_turn() -> None:
    queue = MemoryWorkQueue()
    now = datetime.now(UTC)
    for n in range(5):
        await queue.register_worker(f"other{n}", "elsewhere", n, now)
    membership = Membership(queue, "w1", turns_per_model=2, lease=LEASE)

    await membership.join("here", 1)

    assert membership.turn_cap == 1


async def test_the_sweeper_hands_an_expired_lease_on_and_wakes_the_worker() -> None:
    queue, signals = MemoryWorkQueue(), EngineSignals()
    woken: list[bool] = []
    signals.on_work(lambda: woken.append(True))
    past = datetime.now(UTC) - 2 * LEASE
    queue.add_batch("b1", new_items("i", 1), past)
    await queue.claim("dead", ClaimSlots(turn_cap=1), lease_until=past + LEASE, now=past)
    sweeper = Sweeper(queue, LeaseKeeper(queue, "w1", 30), signals, forget_workers_after=20 * LEASE)

    swept = await sweeper.sweep()

    assert swept.released == 1
    assert queue.items["i0"].status is ItemStatus.PENDING and queue.items["i0"].ready
    assert woken == [True]
    assert await sweeper.sweep() == type(swept)(), "nothing left to sweep"


async def test_the_sweeper_expires_a_due_batch_and_stops_its_turns_here() -> None:
    queue, signals = MemoryWorkQueue(), EngineSignals()
    now = datetime.now(UTC)
    queue.add_batch("b1", new_items("i", 1), now - LEASE, expires_at=now - timedelta(seconds=1))
    await queue.claim("w1", ClaimSlots(turn_cap=1), lease_until=now + LEASE, now=now)
    leases = LeaseKeeper(queue, "w1", 30)
    turn = asyncio.create_task(asyncio.sleep(3600))
    leases.track("i0", "b1", turn)

    swept = await Sweeper(queue, leases, signals, forget_workers_after=20 * LEASE).sweep()

    assert [expired.batch.id for expired in swept.expired] == ["b1"]
    assert queue.batches["b1"].batch.status is BatchStatus.EXPIRED
    await asyncio.gather(turn, return_exceptions=True)
    assert turn.cancelled()
