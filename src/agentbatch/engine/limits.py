"""A concurrency limit that can change while calls wait: how many provider calls one process may have
in flight for one model, given the share of the global limit this process holds right now.

No wake-up is lost: on Python 3.11 a waiter of ``asyncio.Condition`` that is notified and cancelled in
the same tick swallows the notification, which would leave the next waiter asleep beside a free slot.
A cancelled waiter therefore passes the wake-up on whenever there is room.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AdjustableLimit:
    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._in_use = 0
        self._changed = asyncio.Condition()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_use(self) -> int:
        return self._in_use

    async def set_limit(self, limit: int) -> None:
        """Raise or lower the limit; calls already in flight finish, new ones wait for room."""
        async with self._changed:
            self._limit = max(1, limit)
            self._changed.notify_all()

    def _has_room(self) -> bool:
        return self._in_use < self._limit

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._changed:
            try:
                await self._changed.wait_for(self._has_room)
            except asyncio.CancelledError:
                # We may have been the one woken for a free slot: hand the wake-up to the next waiter.
                if self._has_room():
                    self._changed.notify()
                raise
            self._in_use += 1
        try:
            yield
        finally:
            async with self._changed:
                self._in_use -= 1
                self._changed.notify()


def share_of(limit: int, processes: int) -> int:
    """This process's part of a limit shared by ``processes`` live workers (never below one call)."""
    return max(1, limit // max(1, processes))
