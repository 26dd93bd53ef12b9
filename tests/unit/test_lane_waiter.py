"""The lane-wide waiter: many waiting lane turns, one read per chunk of steps, each turn woken with its
own step's outcome, and a failed read loses no one."""

import asyncio

from agentbatch.engine.lane.waiting import LaneWaiter, StepKey
from agentbatch.store import provider_batches as lane_store


def _request(key: StepKey, state: str, attempt: int = 1) -> lane_store.LaneRequest:
    item_id, step_no = key
    return lane_store.LaneRequest(
        custom_id=f"{item_id}-{step_no}-{attempt}",
        submission_id="lane-1",
        item_id=item_id,
        batch_id="batch-1",
        step_no=step_no,
        attempt=attempt,
        state=state,
    )


class Steps:
    """The database as the waiter sees it: each step's latest request, and every read it made."""

    def __init__(self) -> None:
        self.latest: dict[StepKey, lane_store.LaneRequest] = {}
        self.reads: list[list[StepKey]] = []
        self.failures = 0

    async def read(self, keys: list[StepKey]) -> dict[StepKey, lane_store.LaneRequest]:
        self.reads.append(list(keys))
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the database is away")
        return {key: self.latest[key] for key in keys if key in self.latest}


async def _settle() -> None:
    """Let the waiting turns register (no time passes: the waiter's rounds are driven by hand)."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_first_looks_of_many_turns_share_one_query_per_chunk() -> None:
    async def scenario() -> None:
        steps = Steps()
        keys = [(f"item-{i}", 1) for i in range(250)]
        steps.latest[keys[7]] = _request(keys[7], "succeeded")
        waiter = LaneWaiter(steps.read, chunk=100)
        turns = [asyncio.create_task(waiter.latest(key)) for key in keys]
        await _settle()
        assert await waiter.read_due()
        found = await asyncio.gather(*turns)
        assert len(steps.reads) == 3  # 250 steps, 100 per query
        assert sorted(k for chunk in steps.reads for k in chunk) == sorted(keys)
        assert found[7] is not None and found[7].state == "succeeded"
        assert all(latest is None for i, latest in enumerate(found) if i != 7)
        assert waiter.waiting == 0

    asyncio.run(scenario())


def test_only_the_turns_whose_steps_ended_are_woken() -> None:
    async def scenario() -> None:
        steps = Steps()
        keys = [(f"item-{i}", 2) for i in range(10)]
        for key in keys:
            steps.latest[key] = _request(key, lane_store.SUBMITTED)
        waiter = LaneWaiter(steps.read)
        turns = {key: asyncio.create_task(waiter.ended(key)) for key in keys}
        await _settle()
        assert await waiter.read_due()
        await _settle()
        assert not any(turn.done() for turn in turns.values())  # all still in their provider batch

        steps.latest[keys[0]] = _request(keys[0], "succeeded")
        steps.latest[keys[1]] = _request(keys[1], "expired")
        steps.latest[keys[2]] = _request(keys[2], lane_store.SUBMITTED, attempt=2)
        steps.reads.clear()
        waiter.notify([keys[0], keys[1], keys[2], ("item-nobody-waits-for", 1)])
        assert await waiter.read_due()
        await _settle()
        assert len(steps.reads) == 1 and sorted(steps.reads[0]) == sorted(keys[:3])  # not the others
        woken = [turns[key].result() for key in keys[:2]]
        assert [latest.state if latest else None for latest in woken] == ["succeeded", "expired"]
        assert not turns[keys[2]].done()  # its next attempt is submitted: it waits on
        assert waiter.waiting == 8
        for turn in turns.values():
            turn.cancel()
        await asyncio.gather(*turns.values(), return_exceptions=True)
        assert waiter.waiting == 0  # a cancelled turn leaves nothing behind

    asyncio.run(scenario())


def test_a_failed_read_keeps_every_waiter_and_the_next_round_wakes_them() -> None:
    async def scenario() -> None:
        steps = Steps()
        keys = [(f"item-{i}", 1) for i in range(30)]
        for key in keys:
            steps.latest[key] = _request(key, "succeeded")
        waiter = LaneWaiter(steps.read, chunk=10)
        turns = [asyncio.create_task(waiter.ended(key)) for key in keys]
        await _settle()
        steps.failures = 1
        assert not await waiter.read_due()  # the first chunk failed: no one is woken or dropped
        await _settle()
        assert not any(turn.done() for turn in turns)
        assert waiter.waiting == 30
        assert await waiter.read_due()
        found = await asyncio.gather(*turns)
        assert [latest.item_id for latest in found if latest is not None] == [k for k, _ in keys]

    asyncio.run(scenario())


def test_the_recheck_reads_every_waiting_step_without_being_told() -> None:
    """A step picked up by another process is seen on the recheck, with no notify from this one."""

    async def scenario() -> None:
        steps = Steps()
        key = ("item-1", 1)
        steps.latest[key] = _request(key, lane_store.SUBMITTED)
        waiter = LaneWaiter(steps.read, recheck_s=0.05)
        running = asyncio.create_task(waiter.run())
        try:
            turn = asyncio.create_task(waiter.ended(key))
            await _settle()
            steps.latest[key] = _request(key, "succeeded")
            found = await asyncio.wait_for(turn, 5)
            assert found is not None and found.state == "succeeded"
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    asyncio.run(scenario())
