"""Leases: renewed while held, handed back when they expire, released at a clean stop."""

from datetime import timedelta

from agentbatch.domain.states import BatchStatus, ItemStatus
from agentbatch.store.work_queue import ClaimSlots
from tests.store_conformance.commits import LEASE, NOW, PRICES, end
from tests.store_conformance.conftest import QueueUnderTest
from tests.support.queue_items import queued_item


async def test_renewal_extends_only_the_items_still_held(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m"), queued_item("i2", "a2", "m")], NOW)
    port = work_queue.port
    await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)

    held = await port.renew("w1", ["i1", "i2", "unknown"], lease_until=NOW + 3 * LEASE)
    not_mine = await port.renew("w2", ["i1"], lease_until=NOW + 3 * LEASE)
    swept = await port.sweep(NOW + 2 * LEASE, forget_workers_before=NOW)

    assert held == {"i1", "i2"}
    assert not_mine == set()
    assert swept.released == 0, "renewed leases have not expired"


async def test_an_expired_lease_is_handed_to_another_worker(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m")], NOW)
    port = work_queue.port
    await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)
    later = NOW + 2 * LEASE

    swept = await port.sweep(later, forget_workers_before=NOW)
    [again] = await port.claim("w2", ClaimSlots(turn_cap=4), lease_until=later + LEASE, now=later)

    assert swept.released == 1
    assert again.id == "i1" and again.lease_owner == "w2"
    assert await port.renew("w1", ["i1"], lease_until=later + LEASE) == set(), "w1 lost it"


async def test_a_clean_stop_releases_only_that_workers_items(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m"), queued_item("i2", "a2", "m")], NOW)
    port = work_queue.port
    await port.claim("w1", ClaimSlots(turn_cap=1), lease_until=NOW + LEASE, now=NOW)
    await port.claim("w2", ClaimSlots(turn_cap=1), lease_until=NOW + LEASE, now=NOW)

    assert await port.release(["w1"]) == 1
    assert {await port.item_status("i1"), await port.item_status("i2")} == {
        ItemStatus.PENDING,
        ItemStatus.RUNNING,
    }
    assert await port.release() == 1, "everything left running"


async def test_a_failed_turn_is_retried_until_its_attempts_run_out(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m")], NOW)
    await work_queue.seed.batch("b2", [queued_item("next", "a1", "m")], NOW)
    port = work_queue.port
    outcomes = []
    for attempt in range(2):
        now = NOW + timedelta(seconds=attempt)
        [item] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=now + LEASE, now=now)
        assert item.id == "i1"
        outcomes.append(await port.settle_failed_turn(item, "boom", 2, now))

    assert outcomes == [ItemStatus.PENDING, ItemStatus.ERRORED]
    assert await port.item_status("i1") is ItemStatus.ERRORED
    assert await work_queue.seed.batch_status("b1") is BatchStatus.FAILED, "its only request errored"
    [following] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)
    assert following.id == "next", "the agent's next item went ahead"


async def test_settling_an_item_no_longer_held_changes_nothing(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m")], NOW)
    port = work_queue.port
    [item] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)
    await port.cancel_batch("b1", NOW, None)

    assert await port.settle_failed_turn(item, "boom", 3, NOW) is None
    assert await port.item_status("i1") is ItemStatus.CANCELLED
    assert (await port.apply_commits([(item, end())], NOW, PRICES)).accepted == (False,)
