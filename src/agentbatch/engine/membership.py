"""Membership: this worker among the live ones. It registers, shows a heartbeat, counts the workers
whose heartbeat is recent, and takes its share of the per-model limits (turns held, calls in flight)."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

from agentbatch.engine.limits import share_of
from agentbatch.store.work_queue import WorkQueue

log = logging.getLogger(__name__)


class SharesCallLimits(Protocol):
    """The gateway's part: provider calls in flight, split between ``workers``."""

    async def share_with(self, workers: int) -> None: ...


class Membership:
    def __init__(
        self,
        queue: WorkQueue,
        worker_id: str,
        *,
        turns_per_model: int,
        lease: timedelta,
        gateway: SharesCallLimits | None = None,
        interval_s: float = 2.0,
    ) -> None:
        self._queue = queue
        self.worker_id = worker_id
        self._turns_per_model = turns_per_model
        self._lease = lease
        self._gateway = gateway
        self._interval = interval_s
        self.turn_cap = turns_per_model
        """Turns this worker may hold per model: its share of ``turns_per_model``."""
        self.workers = 1

    async def join(self, hostname: str, pid: int) -> None:
        now = datetime.now(UTC)
        await self._queue.register_worker(self.worker_id, hostname, pid, now)
        await self._take_share(await self._queue.live_workers(now - self._lease))

    async def refresh(self) -> None:
        """Show a heartbeat, then take the share of the workers seen alive within a lease."""
        now = datetime.now(UTC)
        await self._queue.heartbeat(self.worker_id, now)
        await self._take_share(await self._queue.live_workers(now - self._lease))

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.refresh()
            except Exception:
                log.exception("membership refresh failed; will retry")

    async def leave(self) -> None:
        await self._queue.unregister_worker(self.worker_id)

    async def _take_share(self, workers: int) -> None:
        """Live workers split the per-model limits evenly: calls in flight, and turns held."""
        self.workers = max(1, workers)
        self.turn_cap = share_of(self._turns_per_model, workers)
        if self._gateway is not None:
            await self._gateway.share_with(workers)
