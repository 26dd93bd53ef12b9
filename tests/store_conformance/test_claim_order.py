"""Claims: an agent's items one at a time in submission order, higher priority first, within slots."""

import asyncio

from agentbatch.domain.states import BatchStatus, StopReason
from agentbatch.store.work_queue import ClaimSlots
from tests.store_conformance.commits import LEASE, NOW, PRICES, end
from tests.store_conformance.conftest import QueueUnderTest
from tests.support.queue_items import queued_item

_LEASED = NOW + LEASE


async def test_an_agents_next_item_is_ready_only_when_the_previous_ends(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("first", "a1", "m")], NOW)
    await work_queue.seed.batch(
        "b2", [queued_item("second", "a1", "m"), queued_item("other", "a2", "m")], NOW
    )
    port = work_queue.port

    claimed = await port.claim("w1", ClaimSlots(turn_cap=10), lease_until=_LEASED, now=NOW)
    assert sorted(item.id for item in claimed) == ["first", "other"]
    assert await port.claim("w1", ClaimSlots(turn_cap=10), lease_until=_LEASED, now=NOW) == []

    first = next(item for item in claimed if item.id == "first")
    await port.apply_commits([(first, end())], NOW, PRICES)
    [second] = await port.claim("w1", ClaimSlots(turn_cap=10), lease_until=_LEASED, now=NOW)
    assert second.id == "second"


async def test_an_errored_item_also_lets_the_agents_next_one_go(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("first", "a1", "m")], NOW)
    await work_queue.seed.batch("b2", [queued_item("second", "a1", "m")], NOW)
    [first] = await work_queue.port.claim("w1", ClaimSlots(turn_cap=10), lease_until=_LEASED, now=NOW)

    await work_queue.port.apply_commits([(first, end(StopReason.ERROR, "boom"))], NOW, PRICES)

    [second] = await work_queue.port.claim("w1", ClaimSlots(turn_cap=10), lease_until=_LEASED, now=NOW)
    assert second.id == "second"


async def test_higher_priority_is_claimed_first_then_oldest_first(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch(
        "low", [queued_item("low-1", "a1", "m"), queued_item("low-2", "a2", "m")], NOW
    )
    await work_queue.seed.batch("high", [queued_item("high-1", "a3", "m")], NOW, priority=5)
    await work_queue.seed.batch("later", [queued_item("later-1", "a4", "m")], NOW)

    order = []
    for _ in range(4):
        [item] = await work_queue.port.claim("w1", ClaimSlots(turn_cap=1), lease_until=_LEASED, now=NOW)
        order.append(item.id)
        await work_queue.port.apply_commits([(item, end())], NOW, PRICES)

    assert order == ["high-1", "low-1", "low-2", "later-1"]


async def test_a_claim_takes_no_more_than_the_free_slots_of_each_model(work_queue: QueueUnderTest) -> None:
    items = [queued_item(f"x{n}", f"ax{n}", "x") for n in range(5)] + [
        queued_item(f"y{n}", f"ay{n}", "y") for n in range(5)
    ]
    await work_queue.seed.batch("b1", items, NOW)

    slots = ClaimSlots(turn_cap=4, running={"x": 1, "y": 3}, at_least=2)
    claimed = await work_queue.port.claim("w1", slots, lease_until=_LEASED, now=NOW)

    assert sorted(item.id for item in claimed) == ["x0", "x1", "x2"], "y has one free slot, under at_least"


async def test_a_claim_limited_to_some_models_leaves_the_others(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("x0", "a1", "x"), queued_item("y0", "a2", "y")], NOW)

    slots = ClaimSlots(turn_cap=4, models=("y",))
    claimed = await work_queue.port.claim("w1", slots, lease_until=_LEASED, now=NOW)

    assert [item.id for item in claimed] == ["y0"]


async def test_the_first_claim_starts_the_batch_once(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item("i1", "a1", "m"), queued_item("i2", "a2", "m")], NOW)

    [one] = await work_queue.port.claim("w1", ClaimSlots(turn_cap=1), lease_until=_LEASED, now=NOW)
    [two] = await work_queue.port.claim("w1", ClaimSlots(turn_cap=1), lease_until=_LEASED, now=NOW)

    assert (one.batch_started, two.batch_started) == (True, False)
    assert await work_queue.seed.batch_status("b1") is BatchStatus.RUNNING


async def test_a_named_item_is_claimed_only_while_it_is_ready(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch(
        "b1", [queued_item("first", "a1", "m"), queued_item("second", "a1", "m")], NOW
    )
    port = work_queue.port

    assert await port.claim_item("w1", "second", lease_until=_LEASED, now=NOW) is None
    first = await port.claim_item("w1", "first", lease_until=_LEASED, now=NOW)
    assert first is not None and first.id == "first"
    assert await port.claim_item("w2", "first", lease_until=_LEASED, now=NOW) is None


async def test_workers_claiming_at_once_never_take_the_same_item(work_queue: QueueUnderTest) -> None:
    await work_queue.seed.batch("b1", [queued_item(f"i{n}", f"a{n}", "m") for n in range(30)], NOW)

    claims = await asyncio.gather(
        *(
            work_queue.port.claim(f"w{n}", ClaimSlots(turn_cap=4), lease_until=_LEASED, now=NOW)
            for n in range(6)
        )
    )

    taken = [item.id for claim in claims for item in claim]
    assert len(taken) == len(set(taken)), "no item is leased twice"
    assert len(taken) == 24, "each worker took its four"
