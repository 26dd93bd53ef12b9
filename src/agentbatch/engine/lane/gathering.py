"""Steps waiting for the next provider batch of one (provider, model): submitted when enough wait or
the gathering window has passed, each batch bounded by the provider's request and byte limits."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agentbatch.domain.turn_records import ClaimedItem


@dataclass(frozen=True, slots=True)
class QueuedStep:
    item: ClaimedItem
    step_no: int
    attempt: int
    body: bytes

    @property
    def custom_id(self) -> str:
        return f"{self.item.id}-{self.step_no}-{self.attempt}"


Submit = Callable[[str, str, list[QueuedStep]], Awaitable[None]]


class Gatherer:
    def __init__(
        self,
        provider: str,
        model: str,
        submit: Submit,
        *,
        window_s: float,
        enough: int,
        limits: tuple[int, int],
        room: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.provider = provider
        self.model = model
        self._submit = submit
        self._window = window_s
        self._enough = enough
        self._max_requests, self._max_bytes = limits
        self._room = room  # requests the quota still admits (None: unbounded)
        self._waiting: list[QueuedStep] = []
        self._first_at = 0.0
        self._wake = asyncio.Event()

    def add(self, step: QueuedStep) -> None:
        if not self._waiting:
            self._first_at = time.monotonic()
        self._waiting.append(step)
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                remaining = self._first_at + self._window - time.monotonic()
                if len(self._waiting) < self._enough and remaining > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), remaining)
                    self._wake.clear()
                    continue
                room = self._room()
                if room is not None and room <= 0:
                    await self._wake.wait()  # the quota is full: wait for open requests to end
                    self._wake.clear()
                    continue
                chunk = self._take(room)
                await self._submit(self.provider, self.model, chunk)

    def wake(self) -> None:
        self._wake.set()

    def _take(self, room: int | None) -> list[QueuedStep]:
        """The oldest steps that fit in one provider batch (by count and by request bytes) and the quota."""
        chunk: list[QueuedStep] = []
        size = 0
        most = self._max_requests if room is None else min(room, self._max_requests)
        for step in self._waiting:
            line = len(step.body) + 200  # the JSONL envelope around the body
            if chunk and (len(chunk) >= most or size + line > self._max_bytes):
                break
            chunk.append(step)
            size += line
        del self._waiting[: len(chunk)]
        self._first_at = time.monotonic()
        return chunk
