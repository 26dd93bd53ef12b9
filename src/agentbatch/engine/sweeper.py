"""The sweeper: on a timer, hands expired leases back to the queue, expires batches past their window,
ends batches whose items all ended without them, and forgets workers silent for long."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from agentbatch.domain.states import ItemStatus
from agentbatch.engine import batch_events
from agentbatch.engine.events import emit
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.engine.metrics import LEASE_EXPIRIES
from agentbatch.engine.signals import EngineSignals
from agentbatch.store.work_queue import SweepOutcome, WorkQueue

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self,
        queue: WorkQueue,
        leases: LeaseKeeper,
        signals: EngineSignals,
        *,
        interval_s: float = 2.0,
        forget_workers_after: timedelta,
    ) -> None:
        self._queue = queue
        self._leases = leases
        self._signals = signals
        self._interval = interval_s
        self._forget_after = forget_workers_after

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed; will retry")

    async def sweep(self) -> SweepOutcome:
        now = datetime.now(UTC)
        swept = await self._queue.sweep(now, forget_workers_before=now - self._forget_after)
        for batch in swept.ended:
            log.warning("batch %s had every item ended but was still unfinished; ended it", batch.id)
            batch_events.batch_ended(batch)
        for expired in swept.expired:
            self._leases.stop_batch(expired.batch.id)
            batch_events.items_ended_by_batch(ItemStatus.EXPIRED, None, expired.items_expired)
            batch_events.batch_ended(expired.batch)
        if swept.released:
            LEASE_EXPIRIES.inc(swept.released)
            emit(
                "lease.recovered",
                level=logging.WARNING,
                items=swept.released,
                worker_id=self._leases.worker_id,
            )
            self._signals.notify_work()
        return swept
