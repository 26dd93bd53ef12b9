"""The worker rides through a failing claim, follows its share as workers come and go, and keeps the
leases of exactly the turns it runs."""

from datetime import UTC, datetime, timedelta

from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.engine.membership import Membership
from agentbatch.engine.sweeper import Sweeper
from agentbatch.engine.worker import Worker
from agentbatch.store.memory_work_queue import MemoryWorkQueue
from agentbatch.store.work_queue import ClaimSlots
from tests.support.polling import wait_for_async
from tests.unit.engine.harness import Engine, engine, new_items

LEASE = timedelta(seconds=30)


class _FlakyQueue(MemoryWorkQueue):
    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def claim(
        self, worker_id: str, slots: ClaimSlots, *, lease_until: datetime, now: datetime
    ) -> list[ClaimedItem]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the database is restarting")
        return await super().claim(worker_id, slots, lease_until=lease_until, now=now)


def _worker(e: Engine, *, turns_per_model: int) -> tuple[Worker, Membership]:
    membership = Membership(e.queue, e.leases.worker_id, turns_per_model=turns_per_model, lease=LEASE)
    sweeper = Sweeper(e.queue, e.leases, e.signals, forget_workers_after=20 * LEASE)
    return Worker(e.queue, e.turns, e.leases, e.signals, membership, sweeper), membership


async def test_a_failed_claim_is_logged_and_the_next_one_works() -> None:
    async with engine(_FlakyQueue()) as e:
        e.runner.hold = True
        e.queue.add_batch("b1", new_items("i", 2), datetime.now(UTC))
        worker, _ = _worker(e, turns_per_model=4)

        assert await worker.claim_and_run(models=None, at_least=1) == []
        assert len(await worker.claim_and_run(models=None, at_least=1)) == 2
        e.runner.release()


async def test_the_worker_claims_within_its_new_share_when_another_worker_joins() -> None:
    async with engine() as e:
        e.runner.hold = True
        now = datetime.now(UTC)
        e.queue.add_batch("b1", new_items("i", 10), now)
        worker, membership = _worker(e, turns_per_model=8)
        await membership.join("here", 1)
        await e.queue.register_worker("w2", "elsewhere", 2, now)
        await e.queue.register_worker("w3", "elsewhere", 3, now)

        await membership.refresh()
        claimed = await worker.claim_and_run(models=None, at_least=1)

        assert (membership.turn_cap, len(claimed)) == (2, 2)
        e.runner.release()


async def test_leases_are_kept_for_running_turns_and_dropped_when_they_end() -> None:
    async with engine() as e:
        e.runner.hold = True
        e.queue.add_batch("b1", new_items("i", 3), datetime.now(UTC))
        worker, _ = _worker(e, turns_per_model=4)

        await worker.claim_and_run(models=None, at_least=1)
        assert e.leases.held == 3

        e.runner.release()
        await wait_for_async(lambda: _finished(worker, 3), timeout=5, interval=0.001, what="3 turns")
        assert e.leases.held == 0


async def _finished(worker: Worker, count: int) -> bool:
    return worker.turns_finished == count
