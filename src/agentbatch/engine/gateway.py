"""Model calls for every turn of this process: bounded per model, retried with backoff, and paused
for a whole provider when it answers 429 — so one provider's rate limit slows everyone down instead of
each turn burning its retries.

The per-model bound is global: ``model_concurrency`` is shared by every live worker process, each taking
an equal part (``share_of``), re-divided whenever the set of live workers changes.
"""

import asyncio
import random
import time
from collections.abc import Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from agentbatch.engine.limits import AdjustableLimit, share_of
from agentbatch.engine.metrics import observed_call
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle
from agentbatch.providers.errors import ProviderError, RateLimited
from agentbatch.providers.registry import ProviderRegistry


class ProviderPause:
    """Shared by every call to one provider: after a 429, nobody calls it until the pause is over."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0

    def extend(self, seconds: float) -> None:
        self._until = max(self._until, self._clock() + seconds)

    async def wait(self) -> None:
        # A loop, not an Event: another 429 may extend the pause while we sleep.
        while (remaining := self._until - self._clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(remaining)


class EngineGateway:
    def __init__(
        self,
        registry: ProviderRegistry,
        *,
        concurrency: int,
        max_attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
    ) -> None:
        self._registry = registry
        self._concurrency = concurrency
        self._max_attempts = max_attempts
        self._base = backoff_base_s
        self._max = backoff_max_s
        self._processes = 1
        self._slots: dict[str, AdjustableLimit] = {}
        self._pauses: dict[str, ProviderPause] = {}
        self.retries = 0
        self.rate_limited = 0

    async def complete(self, handle: ModelHandle, request: ModelRequest) -> ModelResponse:
        try:  # the common case, without building a retry loop for it
            return await self._call_once(handle, request)
        except ProviderError as error:
            if not error.retryable or self._max_attempts <= 1:
                raise
            self.retries += 1
            await asyncio.sleep(self._first_wait(error))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts - 1),
            wait=self._wait,
            retry=retry_if_exception(lambda error: isinstance(error, ProviderError) and error.retryable),
            before_sleep=self._count_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call_once(handle, request)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _call_once(self, handle: ModelHandle, request: ModelRequest) -> ModelResponse:
        pause = self._pauses.setdefault(handle.provider, ProviderPause())
        limit = self._slots.get(str(handle))
        if limit is None:
            limit = self._slots[str(handle)] = AdjustableLimit(share_of(self._concurrency, self._processes))
        async with limit.slot():
            await pause.wait()
            try:
                call = self._registry.chat_model(handle).complete(request)
                return await observed_call(handle.provider, str(handle), call)
            except RateLimited as error:
                self.rate_limited += 1
                pause.extend(error.retry_after if error.retry_after is not None else self._backoff(1))
                raise

    async def share_with(self, processes: int) -> None:
        """``processes`` workers now share the per-model limit; this process takes its part."""
        self._processes = max(1, processes)
        for limit in self._slots.values():
            await limit.set_limit(share_of(self._concurrency, self._processes))

    def limit_of(self, handle: str) -> int:
        limit = self._slots.get(handle)
        return limit.limit if limit else share_of(self._concurrency, self._processes)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return self._wait_after(error, state.attempt_number + 1)

    def _first_wait(self, error: BaseException) -> float:
        return self._wait_after(error, 1)

    def _wait_after(self, error: BaseException | None, attempt: int) -> float:
        if isinstance(error, RateLimited):
            return 0.0  # the provider pause already makes this call (and everyone else's) wait
        retry_after = error.retry_after if isinstance(error, ProviderError) else None
        backoff = self._backoff(attempt)
        return max(backoff, retry_after) if retry_after is not None else backoff

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return random.uniform(0, min(self._max, self._base * 2 ** (attempt - 1)))

    def _count_retry(self, _state: RetryCallState) -> None:
        self.retries += 1
