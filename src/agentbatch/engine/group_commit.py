"""Group commit: the steps of many turns written in one transaction every few milliseconds.

One transaction per step caps SQLite near 1,500 steps/s; grouping what arrived while the previous
transaction ran lifts that to tens of thousands (docs/decisions/0002-group-commit.md). Each commit is
still fenced on its own (``WorkQueue.apply_commits``): a rejected one never blocks the others.
"""

import asyncio
import logging
from datetime import UTC, datetime

from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.turn_records import ClaimedItem, Commit
from agentbatch.engine import batch_events
from agentbatch.runtime.ports import TurnAborted
from agentbatch.store.work_queue import WorkQueue

log = logging.getLogger(__name__)
_Entry = tuple[ClaimedItem, Commit, "asyncio.Future[bool]"]


class GroupCommitter:
    def __init__(self, queue: WorkQueue, *, max_group: int = 512, prices: PriceTable | None = None) -> None:
        self._work_queue = queue
        self._prices = prices or PriceTable()
        self._max_group = max_group
        self._queue: asyncio.Queue[_Entry] = asyncio.Queue()
        self.transactions = 0
        self.commits = 0

    async def submit(self, item: ClaimedItem, commit: Commit) -> bool:
        """Queue a commit and wait until it is written (True) or refused by its fence (False)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, commit, future))
        return await future

    async def run(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < self._max_group and not self._queue.empty():
                group.append(self._queue.get_nowait())
            try:
                await self._write(group)
            except Exception:  # never let one bad group stop every later commit
                log.exception("a group of steps could not be written")
                for _, _, future in group:
                    _settle(future, error=True)

    async def _write(self, group: list[_Entry]) -> None:
        live = [entry for entry in group if not entry[2].done()]  # a cancelled turn no longer waits
        if not live:
            return
        now = datetime.now(UTC)
        try:
            outcome = await self._work_queue.apply_commits(
                [(item, commit) for item, commit, _ in live], now, self._prices
            )
        except Exception:
            if len(live) == 1:
                log.exception("a step could not be written")
                _settle(live[0][2], error=True)
                return
            # Isolate the commit that failed: write the rest one by one.
            for entry in live:
                await self._write([entry])
            return
        self.transactions += 1
        self.commits += len(live)
        for (item, commit, future), ok in zip(live, outcome.accepted, strict=True):
            if ok:
                batch_events.commit_written(item, commit, self._prices)
            _settle(future, ok=ok)
        for batch in outcome.ended_batches:
            batch_events.batch_ended(batch)


def _settle(future: "asyncio.Future[bool]", *, ok: bool = False, error: bool = False) -> None:
    if future.done():
        return
    if error:
        future.set_exception(RuntimeError("the database refused the step; the turn will be retried"))
    else:
        future.set_result(ok)


class GroupSink:
    """The ``StepSink`` of one turn: its commits go through the group committer."""

    def __init__(self, committer: GroupCommitter, item: ClaimedItem) -> None:
        self._committer = committer
        self._item = item
        self.committed: list[Commit] = []

    async def commit(self, commit: Commit) -> None:
        if not await self._committer.submit(self._item, commit):
            raise TurnAborted(f"item {self._item.id} is no longer this worker's to run")
        self.committed.append(commit)
