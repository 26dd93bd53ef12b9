"""Steps waiting for the next provider batch of one (provider, model): submitted when enough wait or
the gathering window has passed, each batch bounded by the provider's request and byte limits."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.engine.wake_waits import wait_until_set
from agentbatch.providers.quotas import estimated_tokens


@dataclass(frozen=True, slots=True)
class QueuedStep:
    item: ClaimedItem
    step_no: int
    attempt: int
    body: bytes

    @property
    def custom_id(self) -> str:
        return f"{self.item.id}-{self.step_no}-{self.attempt}"

    @property
    def tokens(self) -> int:
        return estimated_tokens(len(self.body))


@dataclass(frozen=True, slots=True)
class Room:
    """What a model's lane quota still admits (None: that dimension is unbounded)."""

    requests: int | None = None
    tokens: int | None = None
    idle: bool = True
    """Nothing of the model is open: one step goes even if it alone is over the token quota."""

    @property
    def full(self) -> bool:
        return (self.requests is not None and self.requests <= 0) or (
            self.tokens is not None and self.tokens <= 0
        )


UNBOUNDED = Room()


async def _unbounded() -> Room:
    return UNBOUNDED


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
        room: Callable[[], Awaitable[Room]] = _unbounded,
        recheck_s: float = 1.0,
    ) -> None:
        self.provider = provider
        self.model = model
        self._submit = submit
        self._window = window_s
        self._enough = enough
        self._max_requests, self._max_bytes = limits
        self._room = room  # what the quota still admits, read from the database's open provider batches
        self._recheck = recheck_s  # how often a full quota is read again (other processes free room too)
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
                    await wait_until_set(self._wake, remaining)
                    self._wake.clear()
                    continue
                chunk = self._take(await self._room())
                if not chunk:  # the quota is full: wait for open requests to end (here or elsewhere)
                    await wait_until_set(self._wake, self._recheck)
                    self._wake.clear()
                    continue
                await self._submit(self.provider, self.model, chunk)

    def wake(self) -> None:
        self._wake.set()

    def _take(self, room: Room) -> list[QueuedStep]:
        """The oldest steps that fit in one provider batch (by count and by request bytes) and in the
        quota (requests and estimated tokens); none when the quota is full."""
        if room.full:
            return []
        chunk: list[QueuedStep] = []
        size = tokens = 0
        most = self._max_requests if room.requests is None else min(room.requests, self._max_requests)
        for step in self._waiting:
            line = len(step.body) + 200  # the JSONL envelope around the body
            over_tokens = room.tokens is not None and tokens + step.tokens > room.tokens
            if chunk and (len(chunk) >= most or size + line > self._max_bytes or over_tokens):
                break
            if not chunk and over_tokens and not room.idle:
                return []  # the oldest step waits for room rather than overrunning the quota
            chunk.append(step)
            size += line
            tokens += step.tokens
        del self._waiting[: len(chunk)]
        self._first_at = time.monotonic()
        return chunk
