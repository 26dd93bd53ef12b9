"""Items without a batch (synchronous sends) share their agent's order with batch items."""

from agentbatch.domain.states import ItemStatus
from agentbatch.store.work_queue import ClaimSlots
from tests.store_conformance.commits import LEASE, NOW, PRICES, end
from tests.store_conformance.conftest import QueueUnderTest
from tests.support.queue_items import queued_item


async def test_a_send_waits_behind_its_agents_batch_item_then_runs(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("batch-item", "a1", "m")], NOW)
    await work_queue.seed.send(queued_item("sent", "a1", "m"), NOW)
    port = work_queue.port
    [running] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)

    assert await port.claim_item("api", "sent", lease_until=NOW + LEASE, now=NOW) is None
    await port.apply_commits([(running, end())], NOW, PRICES)
    sent = await port.claim_item("api", "sent", lease_until=NOW + LEASE, now=NOW)

    assert sent is not None and sent.batch_id is None and not sent.batch_started
    outcome = await port.apply_commits([(sent, end())], NOW, PRICES)
    assert outcome.accepted == (True,) and outcome.ended_batches == ()
    assert await port.item_status("sent") is ItemStatus.SUCCEEDED


async def test_a_batch_item_waits_behind_a_running_send(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.send(queued_item("sent", "a1", "m"), NOW)
    await work_queue.seed.batch("b1", [queued_item("batch-item", "a1", "m")], NOW)
    port = work_queue.port

    [first] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)
    assert first.id == "sent"
    assert await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW) == []
    await port.apply_commits([(first, end())], NOW, PRICES)
    [second] = await port.claim("w1", ClaimSlots(turn_cap=4), lease_until=NOW + LEASE, now=NOW)
    assert second.id == "batch-item"


async def test_an_unknown_item_has_no_status_and_cannot_be_claimed(work_queue: QueueUnderTest) -> None:
    assert await work_queue.port.item_status("nothing") is None
    assert await work_queue.port.claim_item("w1", "nothing", lease_until=NOW + LEASE, now=NOW) is None
    assert await work_queue.port.ended_batches(["nothing"]) == set()
    assert await work_queue.port.cancel_batch("nothing", NOW, None) is False


async def test_a_single_process_queue_says_so(work_queue: QueueUnderTest) -> None:
    assert work_queue.port.single_process is (work_queue.name != "postgresql")
