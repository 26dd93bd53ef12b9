"""A batch ends with its last item, however its items end: commits, two workers at once, cancel."""

import asyncio

from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason
from agentbatch.store.work_queue import ClaimSlots
from tests.store_conformance.commits import LEASE, NOW, PRICES, end, step
from tests.store_conformance.conftest import QueueUnderTest
from tests.support.queue_items import queued_item


async def test_the_commit_ending_the_last_item_completes_the_batch(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m"), queued_item("i2", "a2", "m")], NOW)
    port = work_queue.port
    one, two = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)

    first = await port.apply_commits([(one, step(1, one.id, stop=StopReason.END_TURN))], NOW, PRICES)
    last = await port.apply_commits([(two, end(StopReason.ERROR, "boom"))], NOW, PRICES)

    assert first.ended_batches == ()
    [batch] = last.ended_batches
    assert (batch.id, batch.status) == ("b1", BatchStatus.COMPLETED)
    assert (batch.counts.succeeded, batch.counts.errored) == (1, 1)
    assert batch.usage.step_count == 1
    assert await port.ended_batches(["b1"]) == {"b1"}


async def test_two_workers_ending_the_last_two_items_at_once_end_the_batch(
    work_queue: QueueUnderTest,
) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m"), queued_item("i2", "a2", "m")], NOW)
    port = work_queue.port
    [one] = await port.claim("w1", ClaimSlots(turn_cap=1), lease_until=NOW + LEASE, now=NOW)
    [two] = await port.claim("w2", ClaimSlots(turn_cap=1), lease_until=NOW + LEASE, now=NOW)

    outcomes = await asyncio.gather(
        port.apply_commits([(one, end())], NOW, PRICES), port.apply_commits([(two, end())], NOW, PRICES)
    )

    assert [outcome.accepted for outcome in outcomes] == [(True,), (True,)]
    assert await work_queue.seed.batch_status("b1") is BatchStatus.COMPLETED
    assert sum(len(outcome.ended_batches) for outcome in outcomes) == 1, "ended once"


async def test_cancel_ends_every_unfinished_item_and_fences_running_turns(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m"), queued_item("i2", "a1", "m")], NOW)
    await work_queue.seed.batch("b2", [queued_item("later", "a1", "m")], NOW)
    port = work_queue.port
    [running] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)

    assert await port.cancel_batch("b1", NOW, "owner") is True
    assert await port.cancel_batch("b1", NOW, "owner") is False, "already ended"

    assert await work_queue.seed.batch_status("b1") is BatchStatus.CANCELLED
    assert {await port.item_status("i1"), await port.item_status("i2")} == {ItemStatus.CANCELLED}
    assert (await port.apply_commits([(running, step(1, running.id))], NOW, PRICES)).accepted == (False,)
    [following] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)
    assert following.id == "later", "the agent's item in another batch went ahead"


async def test_the_sweep_completes_a_batch_whose_items_all_ended(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m")], NOW)
    port = work_queue.port
    [item] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)
    await port.apply_commits([(item, end())], NOW, PRICES)

    swept = await port.sweep(NOW, forget_workers_before=NOW)

    assert swept.ended == (), "the commit already ended the batch; the sweep finds nothing stranded"
    assert await work_queue.seed.batch_status("b1") is BatchStatus.COMPLETED
