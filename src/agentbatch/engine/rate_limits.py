"""Direct calls per minute and their tokens per minute, per model handle (``[quotas."…"]
requests_per_minute`` / ``tokens_per_minute`` in the providers file): a call over the limit waits for
room (it never fails), so a burst of work goes later instead of meeting the provider's 429s.

Each limit is a leaky bucket (``aiolimiter``) per handle, shared by the live workers like the
concurrency limit: each process takes an equal part (``share_of``). A call's tokens are estimated from
its request (``providers.quotas.estimated_tokens``), before the provider counts them.
"""

import orjson
from aiolimiter import AsyncLimiter

from agentbatch.engine.limits import share_of
from agentbatch.providers.base import ModelRequest
from agentbatch.providers.catalog import ModelHandle
from agentbatch.providers.quotas import ModelQuota, estimated_tokens

_MINUTE = 60.0


class DirectRateLimits:
    def __init__(self, quotas: dict[str, ModelQuota] | None = None, *, period_s: float = _MINUTE) -> None:
        self._period = period_s
        self._quotas = {
            handle: quota
            for handle, quota in (quotas or {}).items()
            if quota.requests_per_minute is not None or quota.tokens_per_minute is not None
        }
        self._processes = 1
        self._limiters: dict[str, tuple[AsyncLimiter | None, AsyncLimiter | None]] = {}
        self.waits = 0
        """Calls that found their model's rate full and waited for room."""

    def share_with(self, processes: int) -> None:
        """``processes`` live workers now share each limit; the buckets are rebuilt at the new size."""
        self._processes = max(1, processes)
        self._limiters.clear()

    async def wait_for_room(self, handle: ModelHandle, request: ModelRequest) -> None:
        """Return once this call fits in its model's requests and tokens per minute."""
        quota = self._quotas.get(str(handle))
        if quota is None:
            return
        requests, tokens = self._limiters_of(str(handle), quota)
        if requests is not None:
            if not requests.has_capacity():
                self.waits += 1
            await requests.acquire()
        if tokens is not None:
            amount = min(_estimate(request), tokens.max_rate)  # a call bigger than the bucket takes it all
            if not tokens.has_capacity(amount):
                self.waits += 1
            await tokens.acquire(amount)

    def _limiters_of(self, handle: str, quota: ModelQuota) -> tuple[AsyncLimiter | None, AsyncLimiter | None]:
        found = self._limiters.get(handle)
        if found is None:
            found = self._limiters[handle] = (
                _bucket(quota.requests_per_minute, self._processes, self._period),
                _bucket(quota.tokens_per_minute, self._processes, self._period),
            )
        return found


def _bucket(per_minute: int | None, processes: int, period_s: float) -> AsyncLimiter | None:
    return None if per_minute is None else AsyncLimiter(share_of(per_minute, processes), period_s)


def _estimate(request: ModelRequest) -> int:
    return estimated_tokens(len(orjson.dumps(request)))
