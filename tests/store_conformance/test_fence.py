"""A commit is written only while its item is held by the committing worker, step by step in order."""

from agentbatch.domain.states import ItemStatus
from agentbatch.store.work_queue import ClaimSlots
from tests.store_conformance.commits import LEASE, NOW, PRICES, end, step
from tests.store_conformance.conftest import QueueUnderTest
from tests.support.queue_items import queued_item


async def test_the_holder_writes_its_steps_in_order_and_a_replay_is_refused(
    work_queue: QueueUnderTest,
) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m")], NOW)
    [item] = await work_queue.port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)

    first = await work_queue.port.apply_commits([(item, step(1, "i1"))], NOW, PRICES)
    replayed = await work_queue.port.apply_commits([(item, step(1, "i1"))], NOW, PRICES)
    skipped = await work_queue.port.apply_commits([(item, step(3, "i1"))], NOW, PRICES)
    second = await work_queue.port.apply_commits([(item, step(2, "i1"))], NOW, PRICES)

    assert (first.accepted, replayed.accepted, skipped.accepted, second.accepted) == (
        (True,),
        (False,),
        (False,),
        (True,),
    )


async def test_one_group_accepts_consecutive_steps_of_one_item(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m")], NOW)
    [item] = await work_queue.port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)

    outcome = await work_queue.port.apply_commits(
        [(item, step(1, "i1")), (item, step(2, "i1")), (item, step(2, "i1"))], NOW, PRICES
    )

    assert outcome.accepted == (True, True, False)


async def test_a_worker_whose_item_was_handed_on_writes_nothing(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m")], NOW)
    [stale] = await work_queue.port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)
    later = NOW + 2 * LEASE
    await work_queue.port.sweep(later, forget_workers_before=NOW)
    [fresh] = await work_queue.port.claim("w2", ClaimSlots(turn_cap=4), lease_until=later + LEASE, now=later)

    refused = await work_queue.port.apply_commits([(stale, end())], later, PRICES)
    written = await work_queue.port.apply_commits([(fresh, end())], later, PRICES)

    assert refused.accepted == (False,)
    assert written.accepted == (True,)
    assert await work_queue.port.item_status("i1") is ItemStatus.SUCCEEDED


async def test_a_refused_commit_does_not_block_the_others_in_its_group(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m"), queued_item("i2", "a2", "m")], NOW)
    one, two = await work_queue.port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)

    outcome = await work_queue.port.apply_commits([(one, step(2, one.id)), (two, end())], NOW, PRICES)

    assert outcome.accepted == (False, True)
    assert await work_queue.port.item_status(two.id) is ItemStatus.SUCCEEDED
    assert await work_queue.port.item_status(one.id) is ItemStatus.RUNNING
