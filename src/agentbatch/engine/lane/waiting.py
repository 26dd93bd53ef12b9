"""The lane's one waiter per process: every lane turn waiting for its step registers here, and the
waiter reads the steps' latest requests for all of them, a chunk of steps per query.

    latest(step) ─▶ read at the next round (many steps' first looks share one query)
    ended(step)  ─▶ read now, then again whenever the submitter settles the step (its provider batch
                    was picked up, or its submission was lost) and every ``recheck_s`` (another process
                    may have picked it up); resolved once the latest request is no longer ``submitted``

A waiting turn holds a future here and no database connection: however many turns wait, the lane
reads with one connection at a time. A failed read keeps every waiter and tries again after a pause.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from agentbatch.engine.wake_waits import wait_until_set
from agentbatch.store import provider_batches as lane_store
from agentbatch.store.database import Database

log = logging.getLogger(__name__)
StepKey = tuple[str, int]
Latest = lane_store.LaneRequest | None


class _Watch:
    """One turn's wait for a step: resolved with the step's latest request (None: never submitted)."""

    __slots__ = ("future", "until_ended")

    def __init__(self, future: "asyncio.Future[Latest]", until_ended: bool) -> None:
        self.future = future
        self.until_ended = until_ended

    def offer(self, latest: Latest) -> bool:
        """Resolve with this reading if it is what the turn waits for; True when done."""
        if self.future.done():
            return True
        if self.until_ended and latest is not None and latest.state == lane_store.SUBMITTED:
            return False
        self.future.set_result(latest)
        return True


ReadSteps = Callable[[list[StepKey]], Awaitable[dict[StepKey, lane_store.LaneRequest]]]


def database_reader(db: Database) -> ReadSteps:
    """Steps' latest requests read from the database, one read-only transaction per call."""

    async def read(keys: list[StepKey]) -> dict[StepKey, lane_store.LaneRequest]:
        async with db.read() as conn:
            return await lane_store.latest_requests(conn, keys)

    return read


class LaneWaiter:
    def __init__(
        self, read: ReadSteps, *, recheck_s: float = 15.0, chunk: int = 500, retry_s: float = 1.0
    ) -> None:
        self._read = read
        self._recheck = recheck_s
        self._chunk = chunk
        self._retry = retry_s
        self._watches: dict[StepKey, list[_Watch]] = {}
        self._due: set[StepKey] = set()
        self._wake = asyncio.Event()
        self.reads = 0
        """Queries issued so far (one per chunk of steps)."""

    @property
    def waiting(self) -> int:
        return len(self._watches)

    async def latest(self, key: StepKey) -> Latest:
        """The step's latest request, read in the next round."""
        return await self._wait(key, until_ended=False)

    async def ended(self, key: StepKey) -> Latest:
        """The step's latest request once it is no longer ``submitted`` (or was never submitted)."""
        return await self._wait(key, until_ended=True)

    def notify(self, keys: Iterable[StepKey]) -> None:
        """These steps' requests changed (picked up, lost): read them again for whoever waits."""
        due = [key for key in keys if key in self._watches]
        if due:
            self._due.update(due)
            self._wake.set()

    async def _wait(self, key: StepKey, *, until_ended: bool) -> Latest:
        watch = _Watch(asyncio.get_running_loop().create_future(), until_ended)
        self._watches.setdefault(key, []).append(watch)
        # Read at once even when waiting for the end: it may have come between the turn's last look
        # and now, and then nothing would wake the turn but the recheck.
        self._due.add(key)
        self._wake.set()
        try:
            return await watch.future
        finally:
            self._forget(key, watch)

    def _forget(self, key: StepKey, watch: _Watch) -> None:
        watches = self._watches.get(key)
        if watches is None:
            return
        with contextlib.suppress(ValueError):
            watches.remove(watch)
        if not watches:
            del self._watches[key]

    async def run(self) -> None:
        """Read due steps until cancelled; every ``recheck_s`` all waiting steps are due."""
        next_recheck = time.monotonic() + self._recheck
        while True:
            if not self._due:
                await wait_until_set(self._wake, next_recheck - time.monotonic())
            self._wake.clear()
            if time.monotonic() >= next_recheck:
                self._due.update(self._watches)
                next_recheck = time.monotonic() + self._recheck
            if not await self.read_due():
                await asyncio.sleep(self._retry)

    async def read_due(self) -> bool:
        """One round: every due step that someone waits for is read, ``chunk`` steps per query; False
        if a read failed (its steps and the rest stay due, no waiter is lost)."""
        due = [key for key in self._due if key in self._watches]
        self._due.clear()
        for start in range(0, len(due), self._chunk):
            chunk = due[start : start + self._chunk]
            try:
                found = await self._read(chunk)
            except Exception:
                log.exception("reading %d waiting lane steps failed; will retry", len(chunk))
                self._due.update(due[start:])
                return False
            finally:
                self.reads += 1
            for key in chunk:
                watches = self._watches.get(key)
                if watches:
                    latest = found.get(key)
                    watches[:] = [watch for watch in watches if not watch.offer(latest)]
        return True
