"""The worker: claims ready items per model within its bounds and runs their turns.

wake (new work, a turn ended, or the poll interval) ─▶ for each model with ready items:
    claim up to its free turn slots (leased) ─▶ load contexts in bulk ─▶ one task per turn
beside it: lease renewal, recovery of stalled leases, batch expiry, ended-batch watch
"""

import asyncio
import contextlib
import logging
import os
import socket
from collections import Counter
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from agentbatch.domain.turns import ClaimedItem
from agentbatch.engine import batch_events
from agentbatch.engine.events import emit
from agentbatch.engine.gateway import EngineGateway
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.engine.limits import share_of
from agentbatch.engine.metrics import LEASE_EXPIRIES
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.turn_execution import TurnContext, TurnExecutor
from agentbatch.store import batches as batch_store
from agentbatch.store import queue
from agentbatch.store import workers as worker_store
from agentbatch.store.batch_reports import batches_ended_at
from agentbatch.store.database import Connection, Database
from agentbatch.store.steps import complete_stranded_batches

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        db: Database,
        executor: TurnExecutor,
        leases: LeaseKeeper,
        signals: EngineSignals,
        *,
        turns_per_model: int,
        gateway: EngineGateway | None = None,
        poll_interval_s: float = 0.25,
        sweep_interval_s: float = 2.0,
    ) -> None:
        self._db = db
        self._executor = executor
        self._leases = leases
        self._signals = signals
        self._turns_per_model = turns_per_model
        self._turn_cap = turns_per_model  # this worker's part of it, once others are seen
        self._gateway = gateway
        self._claim_batch = max(1, min(16, turns_per_model // 8))
        self._wake = asyncio.Event()  # new work, or a turn freed its slot
        self._new_work = False
        signals.on_work(self._on_new_work)
        self._poll = poll_interval_s
        self._sweep = sweep_interval_s
        self._running: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.turns_finished = 0
        self.claims = 0
        self.claimed = 0
        signals.on_cancel(leases.stop_batch)

    @property
    def worker_id(self) -> str:
        return self._leases.worker_id

    async def run(self) -> None:
        now = datetime.now(UTC)
        async with self._db.write() as conn:
            if self._db.is_sqlite:
                # One process owns an SQLite file: whatever was running before was cut short.
                await queue.release_leases_of(conn)
            await worker_store.register_worker(conn, self.worker_id, socket.gethostname(), os.getpid(), now)
            workers = await self._count_live_workers(conn, now)
        await self._take_share(workers)
        log.info("worker %s started (pid %d)", self.worker_id, os.getpid())
        background = [
            self._spawn(self._leases.renew_forever()),
            self._spawn(self._leases.watch_ended_batches()),
            self._spawn(self._sweep_forever()),
        ]
        try:
            await self._claim_forever()
        finally:
            everything = {*background, *self._tasks}
            for task in everything:
                task.cancel()
            await asyncio.gather(*everything, return_exceptions=True)
            await self._release()

    async def _claim_forever(self) -> None:
        """New work (a submission, or the poll timer: other processes) fills every free slot; a slot
        freed by a turn that ended is refilled once a few are free — one claim for many turns."""
        loop = asyncio.get_running_loop()
        while True:
            self._new_work = False
            self._wake.clear()
            try:
                claimed = await self._claim(models=None, at_least=1)
            except Exception:
                log.exception("claiming items failed; will retry")
                claimed = []
            if claimed:
                await self._start(claimed)
            deadline = loop.time() + self._poll
            while not self._new_work and (remaining := deadline - loop.time()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=remaining)
                self._wake.clear()
                if self._new_work:
                    break
                ready = [
                    m for m, running in self._running.items() if self._turn_cap - running >= self._claim_batch
                ]
                if ready and (more := await self._claim_quietly(ready)):
                    await self._start(more)

    def _on_new_work(self) -> None:
        self._new_work = True
        self._wake.set()

    async def _claim_quietly(self, models: list[str]) -> list[ClaimedItem]:
        try:
            return await self._claim(models=models, at_least=self._claim_batch)
        except Exception:
            log.exception("claiming items failed; will retry")
            return []

    async def _claim(self, *, models: list[str] | None, at_least: int) -> list[ClaimedItem]:
        now = datetime.now(UTC)
        claimed: list[ClaimedItem] = []
        async with self._db.write() as conn:
            if not self._db.is_sqlite and models is None:
                # Workers come and go: take the right share before claiming new work.
                await self._take_share(await self._count_live_workers(conn, now))
            for model in models if models is not None else await queue.claimable_models(conn):
                free = self._turn_cap - self._running[model]
                if free < at_least:
                    continue
                got = await queue.claim_items(
                    conn,
                    self.worker_id,
                    model=model,
                    limit=free,
                    lease_until=self._leases.lease_until(now),
                    now=now,
                )
                self._running[model] += len(got)
                claimed.extend(got)
                for item in got:
                    if item.batch_started:
                        emit("batch.started", batch_id=item.batch_id, worker_id=self.worker_id, model=model)
        self.claims += 1
        self.claimed += len(claimed)
        return claimed

    async def _start(self, claimed: list[ClaimedItem]) -> None:
        try:
            contexts = await self._executor.load(claimed)
        except Exception as error:
            log.exception("could not load the claimed turns; handing them back")
            for item in claimed:
                await self._executor.release_failed(item, f"its turn could not start: {error}")
                self._running[item.model] -= 1
            return
        for item in claimed:
            task = self._spawn(self._run_turn(item, contexts[item.id]))
            self._leases.track(item.id, item.batch_id, task)

    async def _run_turn(self, item: ClaimedItem, context: TurnContext) -> None:
        try:
            await self._executor.execute(item, context)
        except asyncio.CancelledError:
            pass  # cancelled batch or lost lease: the fence already keeps anything further from being written
        except Exception:  # the executor hands failed turns back; this is a last resort
            log.exception("turn of item %s failed; its lease is no longer renewed and will expire", item.id)
        finally:
            self._running[item.model] -= 1
            self._leases.untrack(item.id)
            self.turns_finished += 1
            self._wake.set()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep)
            try:
                now = datetime.now(UTC)
                async with self._db.write() as conn:
                    released = await queue.release_expired_leases(conn, now)
                    expired = await batch_store.expire_due_batches(conn, now)
                    stranded = await complete_stranded_batches(conn, now)
                    ended = await batches_ended_at(conn, stranded, now)
                    workers = await self._count_live_workers(conn, now)
                await self._take_share(workers)
                for batch in ended:
                    log.warning("batch %s had every item ended but was still unfinished; ended it", batch.id)
                    batch_events.batch_ended(batch)
                for batch_id in expired:
                    self._leases.stop_batch(batch_id)
                    emit("batch.ended", batch_id=batch_id, status="expired")
                if released:
                    LEASE_EXPIRIES.inc(released)
                    emit("lease.recovered", level=logging.WARNING, items=released, worker_id=self.worker_id)
                    self._signals.notify_work()
            except Exception:
                log.exception("sweep failed; will retry")

    async def _count_live_workers(self, conn: Connection, now: datetime) -> int:
        lease = self._leases.lease_until(now) - now
        await worker_store.forget_workers(conn, now - 20 * lease)
        return await worker_store.live_workers(conn, now - lease)

    async def _take_share(self, workers: int) -> None:
        """Live workers split the per-model limits evenly: calls in flight, and turns held."""
        self._turn_cap = share_of(self._turns_per_model, workers)
        if self._gateway is not None:
            await self._gateway.share_with(workers)

    async def _release(self) -> None:
        """A clean stop hands this worker's unfinished items straight back to the queue."""
        try:
            async with self._db.write() as conn:
                await queue.release_leases_of(conn, [self.worker_id])
                await worker_store.unregister_worker(conn, self.worker_id)
        except Exception:
            log.exception("could not release leases at shutdown; they will expire")

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
