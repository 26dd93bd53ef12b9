"""This process's leases: renewed on a timer for exactly the items a live turn holds (a turn registers
its item with ``track`` and removes it with ``untrack`` when it ends, however it ends); an item of this
worker without a live turn is not renewed, so its lease expires and the sweep hands it on. A turn whose
item was taken away (cancelled, expired, its agent deleted, reclaimed after a stall) is stopped at once."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from agentbatch.store.work_queue import WorkQueue

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, queue: WorkQueue, worker_id: str, lease_seconds: float) -> None:
        self._queue = queue
        self.worker_id = worker_id
        self._lease = timedelta(seconds=lease_seconds)
        self._held: dict[str, tuple[str | None, asyncio.Task[object]]] = {}

    @property
    def lease(self) -> timedelta:
        return self._lease

    def lease_until(self, now: datetime) -> datetime:
        return now + self._lease

    def track(self, item_id: str, batch_id: str | None, task: "asyncio.Task[object]") -> None:
        self._held[item_id] = (batch_id, task)

    def untrack(self, item_id: str) -> None:
        self._held.pop(item_id, None)

    @property
    def held(self) -> int:
        return len(self._held)

    def stop_batch(self, batch_id: str) -> None:
        """Cancel this process's turns of a batch that has ended (its in-flight calls are aborted);
        given an item's id, that item's turn alone (an agent's turn cancelled by itself)."""
        for item_id, (item_batch, task) in list(self._held.items()):
            if batch_id in (item_batch, item_id):
                task.cancel()

    async def renew_forever(self) -> None:
        interval = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self.renew()
            except Exception:
                log.exception("lease renewal failed; will retry")

    async def renew(self) -> None:
        now = datetime.now(UTC)
        held = {item_id: task for item_id, (_, task) in self._held.items()}
        still_held = await self._queue.renew(self.worker_id, held, lease_until=self.lease_until(now))
        for item_id, task in held.items():
            current = self._held.get(item_id)
            if item_id not in still_held and current is not None and current[1] is task:
                task.cancel()  # its item was taken away (not one claimed again since the snapshot)

    async def watch_ended_batches(self, interval_s: float = 1.0) -> None:
        """Across processes, a cancel is seen here within about a second."""
        while True:
            await asyncio.sleep(interval_s)
            batch_ids = {batch_id for batch_id, _ in self._held.values() if batch_id is not None}
            if not batch_ids:
                continue
            try:
                ended = await self._queue.ended_batches(batch_ids)
            except Exception:
                log.exception("could not check for ended batches")
                continue
            for batch_id in ended:
                self.stop_batch(batch_id)
