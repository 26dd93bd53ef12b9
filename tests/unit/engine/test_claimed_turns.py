"""``run_claimed``: the one path a claimed item takes, and how a failed turn settles its item."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from agentbatch.domain.states import BatchStatus, ItemStatus
from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.store.work_queue import ClaimSlots
from tests.support.polling import wait_for_async
from tests.unit.engine.harness import Engine, engine, new_items

NOW = datetime.now(UTC)


async def _claim_all(e: Engine) -> list[ClaimedItem]:
    return await e.queue.claim(
        "w1", ClaimSlots(turn_cap=10), lease_until=NOW + timedelta(seconds=30), now=NOW
    )


async def test_a_turn_runs_to_its_end_and_completes_the_batch() -> None:
    async with engine() as e:
        e.queue.add_batch("b1", new_items("i", 2), NOW)
        tasks = await e.turns.run_claimed(await _claim_all(e))

        results = await asyncio.gather(*tasks.values())

        assert [result.stop.value for result in results if result] == ["end_turn", "end_turn"]
        assert e.queue.batches["b1"].batch.status is BatchStatus.COMPLETED
        assert sorted(e.ended) == ["agent-i0", "agent-i1"]
        assert e.leases.held == 0


async def test_a_failed_turn_hands_its_item_back_while_attempts_remain() -> None:
    async with engine(max_attempts=2) as e:
        e.queue.add_batch("b1", new_items("i", 1), NOW)
        e.runner.failing.add("i0")

        first = await e.turns.run_claimed(await _claim_all(e))
        assert await first["i0"] is None
        assert e.queue.items["i0"].status is ItemStatus.PENDING
        assert e.queue.items["i0"].error == "the turn failed: RuntimeError: the provider broke"

        second = await e.turns.run_claimed(await _claim_all(e))
        assert await second["i0"] is None
        assert e.queue.items["i0"].status is ItemStatus.ERRORED
        assert e.queue.batches["b1"].batch.status is BatchStatus.FAILED
        assert e.executor.failed_turns == 2
        assert e.ended == ["agent-i0", "agent-i0"]


async def test_an_item_whose_context_cannot_load_is_handed_back_without_a_task() -> None:
    async with engine() as e:
        e.queue.add_batch("b1", new_items("i", 2), NOW)
        e.agents.broken = True

        tasks = await e.turns.run_claimed(await _claim_all(e))

        assert tasks == {}
        assert {item.status for item in e.queue.items.values()} == {ItemStatus.PENDING}
        assert "the database went away" in (e.queue.items["i0"].error or "")
        assert e.runner.started == []


async def test_a_cancelled_batch_stops_its_running_turn_and_writes_nothing() -> None:
    async with engine() as e:
        e.runner.hold = True
        e.queue.add_batch("b1", new_items("i", 1), NOW)
        tasks = await e.turns.run_claimed(await _claim_all(e))
        await wait_for_async(_started(e), timeout=5, interval=0.001, what="the turn to start")

        await e.queue.cancel_batch("b1", NOW, None)
        e.leases.stop_batch("b1")

        await asyncio.gather(*tasks.values(), return_exceptions=True)
        assert tasks["i0"].cancelled()
        assert e.queue.items["i0"].status is ItemStatus.CANCELLED
        assert e.queue.items["i0"].commits == []
        assert e.ended == ["agent-i0"]


async def test_a_turn_whose_item_was_taken_away_is_refused_by_the_fence() -> None:
    async with engine() as e:
        e.runner.hold = True
        e.queue.add_batch("b1", new_items("i", 1), NOW)
        tasks = await e.turns.run_claimed(await _claim_all(e))
        later = NOW + timedelta(minutes=5)
        await e.queue.sweep(later, forget_workers_before=NOW)
        await e.queue.claim("w2", ClaimSlots(turn_cap=1), lease_until=later, now=later)

        e.runner.release()

        assert await tasks["i0"] is None, "aborted: the item is w2's now"
        assert e.queue.items["i0"].lease_owner == "w2"
        assert e.queue.items["i0"].commits == []


def _started(e: Engine) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return bool(e.runner.started)

    return probe
