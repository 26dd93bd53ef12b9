"""Model calls for every turn of this process: bounded per model, retried for a budget of time, and
paused for a whole provider when it says it is down or overloaded — so an outage or a rate limit slows
everyone down instead of each turn burning its retries.

- Retries stop when the next wait would pass ``retry_budget_s`` (minutes by default), never after a
  count of quick attempts: an outage of a few seconds, or a few minutes, is ridden through.
- Backoff is exponential with *equal* jitter (half fixed, half random), so a wait never collapses to
  about zero, and is never shorter than the provider's ``retry-after``.
- A 429, a refused or dropped connection, and a timeout pause the provider for every call
  (``ProviderError.pauses_provider``); a 5xx backs off only the call that got it.

The per-model bound is global: ``model_concurrency`` is shared by every live worker process, each taking
an equal part (``share_of``), re-divided whenever the set of live workers changes.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from agentbatch.engine.limits import AdjustableLimit, share_of
from agentbatch.engine.metrics import observed_call
from agentbatch.engine.rate_limits import DirectRateLimits
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle
from agentbatch.providers.errors import ProviderError
from agentbatch.providers.registry import ProviderRegistry

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ProviderPause:
    """Shared by every call to one provider: after a pausing failure, nobody calls it until the pause
    is over."""

    def __init__(self, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._until = 0.0

    def extend(self, seconds: float) -> None:
        self._until = max(self._until, self._clock() + seconds)

    @property
    def remaining(self) -> float:
        return max(0.0, self._until - self._clock())

    async def wait(self) -> None:
        # A loop, not an Event: another failure may extend the pause while we sleep.
        while (remaining := self.remaining) > 0:
            await self._sleep(remaining)


class _Attempts:
    """One call's retry state: when it started, how many attempts, the provider's pause."""

    def __init__(self, started: float, pause: ProviderPause) -> None:
        self.started = started
        self.count = 1
        self.pause = pause


class EngineGateway:
    def __init__(
        self,
        registry: ProviderRegistry,
        *,
        concurrency: int,
        retry_budget_s: float,
        backoff_base_s: float,
        backoff_max_s: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rate_limits: DirectRateLimits | None = None,
    ) -> None:
        self._registry = registry
        self.rate_limits = rate_limits or DirectRateLimits()
        self._concurrency = concurrency
        self._budget = retry_budget_s
        self._base = backoff_base_s
        self._max = backoff_max_s
        self._clock = clock
        self._sleep = sleep
        self._processes = 1
        self._slots: dict[str, AdjustableLimit] = {}
        self._pauses: dict[str, ProviderPause] = {}
        self.retries = 0
        self.rate_limited = 0
        self.pauses = 0

    async def complete(self, handle: ModelHandle, request: ModelRequest) -> ModelResponse:
        pause = self._pauses.get(handle.provider)
        if pause is None:
            pause = self._pauses[handle.provider] = ProviderPause(self._clock, self._sleep)
        attempts = _Attempts(self._clock(), pause)
        try:  # the common case, without building a retry loop for it
            return await self._call_once(handle, request, attempts)
        except ProviderError as error:
            first_wait = self._wait_after(error, attempts)
            if not error.retryable or self._give_up(attempts, first_wait):
                raise self._gave_up(error, attempts) from error
        retrying = AsyncRetrying(
            stop=lambda state: self._give_up(attempts, state.upcoming_sleep),
            wait=lambda state: self._wait(state, attempts),
            retry=retry_if_exception(lambda error: isinstance(error, ProviderError) and error.retryable),
            before_sleep=self._count_retry,
            sleep=self._sleep,
            reraise=True,
        )
        self.retries += 1
        await self._sleep(first_wait)
        try:
            async for attempt in retrying:
                with attempt:
                    attempts.count += 1
                    return await self._call_once(handle, request, attempts)
        except ProviderError as last:
            raise self._gave_up(last, attempts) from last
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _call_once(
        self, handle: ModelHandle, request: ModelRequest, attempts: _Attempts
    ) -> ModelResponse:
        limit = self._slots.get(str(handle))
        if limit is None:
            limit = self._slots[str(handle)] = AdjustableLimit(share_of(self._concurrency, self._processes))
        await self.rate_limits.wait_for_room(handle, request)  # before a slot: waiting holds none
        async with limit.slot():
            await attempts.pause.wait()
            try:
                call = self._registry.chat_model(handle).complete(request)
                return await observed_call(handle.provider, str(handle), call)
            except ProviderError as error:
                if error.pauses_provider:
                    self._pause(attempts.pause, error, attempts.count)
                raise

    def _pause(self, pause: ProviderPause, error: ProviderError, attempt: int) -> None:
        if error.status == 429:
            self.rate_limited += 1
        self.pauses += 1
        pause.extend(error.retry_after if error.retry_after is not None else self._backoff(attempt))

    async def share_with(self, processes: int) -> None:
        """``processes`` workers now share the per-model limit; this process takes its part."""
        self._processes = max(1, processes)
        self.rate_limits.share_with(self._processes)
        for limit in self._slots.values():
            await limit.set_limit(share_of(self._concurrency, self._processes))

    def limit_of(self, handle: str) -> int:
        limit = self._slots.get(handle)
        return limit.limit if limit else share_of(self._concurrency, self._processes)

    def _give_up(self, attempts: _Attempts, next_wait: float) -> bool:
        """Stop when waiting for the next attempt would pass the retry budget."""
        return self._clock() - attempts.started + next_wait > self._budget

    def _gave_up(self, error: ProviderError, attempts: _Attempts) -> ProviderError:
        if attempts.count == 1 and not error.retryable:
            return error
        elapsed = self._clock() - attempts.started
        message = (
            f"{error} (gave up after {attempts.count} attempts over {elapsed:.1f} s; "
            f"the retry budget is {self._budget:g} s)"
        )
        return type(error)(message, status=error.status, retry_after=error.retry_after)

    def _wait(self, state: RetryCallState, attempts: _Attempts) -> float:
        error = state.outcome.exception() if state.outcome else None
        return self._wait_after(error, attempts)

    def _wait_after(self, error: BaseException | None, attempts: _Attempts) -> float:
        if isinstance(error, ProviderError) and error.pauses_provider:
            return attempts.pause.remaining  # the provider's pause makes this call (and everyone's) wait
        retry_after = error.retry_after if isinstance(error, ProviderError) else None
        backoff = self._backoff(attempts.count)
        return max(backoff, retry_after) if retry_after is not None else backoff

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: between half and all of ``base * 2^(attempt-1)``
        (capped), so concurrent retries spread out without any wait collapsing to about zero."""
        ceiling: float = min(self._max, self._base * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _count_retry(self, _state: RetryCallState) -> None:
        self.retries += 1
