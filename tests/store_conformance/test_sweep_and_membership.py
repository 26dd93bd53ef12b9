"""The sweep (due batches, stranded batches, silent workers) and the worker registry."""

from datetime import timedelta

from agentbatch.domain.states import BatchStatus, ItemStatus
from agentbatch.store.work_queue import ClaimSlots
from tests.store_conformance.commits import LEASE, NOW
from tests.store_conformance.conftest import QueueUnderTest
from tests.support.queue_items import queued_item


async def test_a_batch_past_its_window_expires_and_frees_its_agents(work_queue: QueueUnderTest) -> None:
    due = NOW + timedelta(minutes=5)
    await work_queue.seed.batch("old", [queued_item("o1", "a1", "m")], NOW, expires_at=due)
    await work_queue.seed.batch("new", [queued_item("n1", "a1", "m")], NOW)
    port = work_queue.port
    [running] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)
    assert running.id == "o1"

    early = await port.sweep(due - timedelta(seconds=1), forget_workers_before=NOW)
    late = await port.sweep(due + timedelta(seconds=1), forget_workers_before=NOW)

    assert early.expired == ()
    assert [(e.batch.id, e.batch.status, e.items_expired) for e in late.expired] == [
        ("old", BatchStatus.EXPIRED, 1)
    ]
    assert await work_queue.seed.batch_status("old") is BatchStatus.EXPIRED
    assert await port.item_status("o1") is ItemStatus.EXPIRED
    assert await port.ended_batches(["old", "new"]) == {"old"}
    [following] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=due + LEASE, now=due)
    assert following.id == "n1"


async def test_workers_are_live_while_their_heartbeat_is_recent(work_queue: QueueUnderTest) -> None:
    port = work_queue.port
    await port.register_worker("w1", "host", 1, NOW)
    await port.register_worker("w2", "host", 2, NOW)
    await port.heartbeat("w2", NOW + LEASE)

    assert await port.live_workers(NOW) == 2
    assert await port.live_workers(NOW + timedelta(seconds=1)) == 1
    assert await port.live_workers(NOW) == 2, "counting forgets no one"

    await port.unregister_worker("w2")
    assert await port.live_workers(NOW) == 1


async def test_the_sweep_forgets_long_silent_workers(work_queue: QueueUnderTest) -> None:
    port = work_queue.port
    await port.register_worker("silent", "host", 1, NOW)
    await port.register_worker("alive", "host", 2, NOW + LEASE)

    swept = await port.sweep(NOW + LEASE, forget_workers_before=NOW + timedelta(seconds=1))

    assert swept.forgotten_workers == 1
    assert await port.live_workers(NOW - LEASE) == 1
