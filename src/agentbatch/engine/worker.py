"""The worker: claims ready items per model within its share of the limits and runs their turns.

wake (new work, a turn ended, or the poll interval) ─▶ for each model with ready items:
    claim up to its free turn slots (leased) ─▶ ``ClaimedTurns.run_claimed`` (one task per turn)
beside it, each a job of its own: lease renewal and the ended-batch watch (``LeaseKeeper``), live
workers and limit shares (``Membership``), expired leases and due batches (``Sweeper``).
"""

import asyncio
import functools
import logging
import os
import socket
from collections import Counter
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.engine.claimed_turns import ClaimedTurns
from agentbatch.engine.events import emit
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.engine.membership import Membership
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.sweeper import Sweeper
from agentbatch.engine.wake_waits import wait_until_set
from agentbatch.store.work_queue import ClaimSlots, WorkQueue

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        queue: WorkQueue,
        turns: ClaimedTurns,
        leases: LeaseKeeper,
        signals: EngineSignals,
        membership: Membership,
        sweeper: Sweeper,
        *,
        poll_interval_s: float = 0.25,
    ) -> None:
        self._queue = queue
        self._turns = turns
        self._leases = leases
        self._membership = membership
        self._sweeper = sweeper
        self._wake = asyncio.Event()  # new work, or a turn freed its slot
        self._new_work = False
        signals.on_work(self._on_new_work)
        signals.on_cancel(leases.stop_batch)
        self._poll = poll_interval_s
        self._running: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.turns_finished = 0
        self.claims = 0
        self.claimed = 0

    @property
    def worker_id(self) -> str:
        return self._leases.worker_id

    @property
    def _claim_batch(self) -> int:
        """A slot freed by a turn that ended is refilled once this many are free: one claim, many turns."""
        return max(1, min(16, self._membership.turn_cap // 8))

    async def run(self) -> None:
        if self._queue.single_process:
            # One process owns the queue: whatever was running before was cut short.
            await self._queue.release()
        await self._membership.join(socket.gethostname(), os.getpid())
        log.info("worker %s started (pid %d)", self.worker_id, os.getpid())
        background = [
            self._spawn(self._leases.renew_forever()),
            self._spawn(self._leases.watch_ended_batches()),
            self._spawn(self._membership.run_forever()),
            self._spawn(self._sweeper.run_forever()),
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
            await self.claim_and_run(models=None, at_least=1)
            deadline = loop.time() + self._poll
            while not self._new_work and (remaining := deadline - loop.time()) > 0:
                await wait_until_set(self._wake, remaining)
                self._wake.clear()
                if self._new_work:
                    break
                cap, at_least = self._membership.turn_cap, self._claim_batch
                ready = tuple(m for m, running in self._running.items() if cap - running >= at_least)
                if ready:
                    await self.claim_and_run(models=ready, at_least=at_least)

    async def claim_and_run(self, *, models: tuple[str, ...] | None, at_least: int) -> list[ClaimedItem]:
        """One claim within the free slots, its turns started; the items claimed (none on an error)."""
        try:
            claimed = await self._claim(models=models, at_least=at_least)
        except Exception:
            log.exception("claiming items failed; will retry")
            return []
        if claimed:
            await self._start(claimed)
        return claimed

    def _on_new_work(self) -> None:
        self._new_work = True
        self._wake.set()

    async def _claim(self, *, models: tuple[str, ...] | None, at_least: int) -> list[ClaimedItem]:
        now = datetime.now(UTC)
        slots = ClaimSlots(self._membership.turn_cap, dict(self._running), at_least, models)
        claimed = await self._queue.claim(
            self.worker_id, slots, lease_until=self._leases.lease_until(now), now=now
        )
        for item in claimed:
            self._running[item.model] += 1
            if item.batch_started:
                emit("batch.started", batch_id=item.batch_id, worker_id=self.worker_id, model=item.model)
        self.claims += 1
        self.claimed += len(claimed)
        return claimed

    async def _start(self, claimed: list[ClaimedItem]) -> None:
        tasks = await self._turns.run_claimed(claimed)
        for item in claimed:
            task = tasks.get(item.id)
            if task is None:
                self._turn_ended(item.model)
                continue
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(functools.partial(self._turn_ended, item.model))

    def _turn_ended(self, model: str, _task: object = None) -> None:
        self._running[model] -= 1
        self.turns_finished += 1
        self._wake.set()

    async def _release(self) -> None:
        """A clean stop hands this worker's unfinished items straight back to the queue."""
        try:
            await self._queue.release([self.worker_id])
            await self._membership.leave()
        except Exception:
            log.exception("could not release leases at shutdown; they will expire")

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
