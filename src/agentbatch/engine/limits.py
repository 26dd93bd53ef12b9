"""A concurrency limit that can change while calls wait: how many provider calls one process may have
in flight for one model, given the share of the global limit this process holds right now."""

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

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: self._in_use < self._limit)
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
