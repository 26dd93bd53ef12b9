"""Group commit on the in-memory queue: many turns' commits in one call, each fenced on its own, and a
group whose write fails retried commit by commit."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.states import StopReason
from agentbatch.domain.turn_records import ClaimedItem, Commit, StepRecord
from agentbatch.engine.group_commit import GroupCommitter, GroupSink
from agentbatch.runtime.ports import TurnAborted
from agentbatch.store.memory_work_queue import MemoryWorkQueue
from agentbatch.store.work_queue import ClaimSlots, CommitOutcome
from tests.unit.engine.harness import new_items

NOW = datetime.now(UTC)


class _CountingQueue(MemoryWorkQueue):
    """Counts the groups written; refuses any group holding a poisoned item."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[int] = []
        self.poisoned: set[str] = set()

    async def apply_commits(
        self, commits: Sequence[tuple[ClaimedItem, Commit]], now: datetime, prices: PriceTable
    ) -> CommitOutcome:
        if any(item.id in self.poisoned for item, _ in commits):
            raise ConnectionError("the transaction failed")
        self.groups.append(len(commits))
        return await super().apply_commits(commits, now, prices)


def _step(item: ClaimedItem, stop: StopReason | None = None) -> Commit:
    return Commit(StepRecord(1, f"s-{item.id}", "m", "stop", 1, 1, 1, 1), [], [], stop)


async def _claimed(queue: MemoryWorkQueue, count: int) -> list[ClaimedItem]:
    queue.add_batch("b1", new_items("i", count), NOW)
    return await queue.claim(
        "w1", ClaimSlots(turn_cap=count), lease_until=NOW + timedelta(minutes=1), now=NOW
    )


async def test_commits_that_arrive_together_are_written_in_one_group() -> None:
    queue = _CountingQueue()
    items = await _claimed(queue, 20)
    committer = GroupCommitter(queue)
    running = asyncio.create_task(committer.run())
    try:
        written = await asyncio.gather(*(committer.submit(item, _step(item)) for item in items))
    finally:
        running.cancel()
    assert written == [True] * 20
    assert queue.groups == [20]
    assert (committer.transactions, committer.commits) == (1, 20)


async def test_a_failed_group_is_retried_one_by_one_and_only_the_bad_commit_fails() -> None:
    queue = _CountingQueue()
    items = await _claimed(queue, 3)
    queue.poisoned.add(items[1].id)
    committer = GroupCommitter(queue)
    running = asyncio.create_task(committer.run())
    try:
        outcomes = await asyncio.gather(
            *(committer.submit(item, _step(item)) for item in items), return_exceptions=True
        )
    finally:
        running.cancel()
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], RuntimeError)
    assert queue.groups == [1, 1]


async def test_a_sink_whose_commit_is_fenced_off_aborts_its_turn() -> None:
    queue = MemoryWorkQueue()
    [item] = await _claimed(queue, 1)
    await queue.cancel_batch("b1", NOW, None)
    committer = GroupCommitter(queue)
    running = asyncio.create_task(committer.run())
    try:
        with pytest.raises(TurnAborted):
            await GroupSink(committer, item).commit(_step(item, StopReason.END_TURN))
    finally:
        running.cancel()
