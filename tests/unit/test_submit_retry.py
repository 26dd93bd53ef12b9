"""How a provider batch submission is retried (the lane's ``SubmitRetry`` on tenacity)."""

import pytest
from tenacity import AsyncRetrying

from agentbatch.engine.lane.submission import SubmitRetry
from agentbatch.providers.errors import ProviderError, ProviderRejected, ProviderUnavailable, RateLimited

QUICK = SubmitRetry(max_attempts=3, base_s=0.001, max_s=0.001)


async def _submit(policy: SubmitRetry, failures: list[ProviderError]) -> tuple[str | None, int]:
    """Submit against a provider that fails with ``failures`` first; (the outcome, tries made)."""
    tries = 0
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    retrying = AsyncRetrying(retry=policy.retries, wait=policy.wait, sleep=no_sleep, reraise=True)
    try:
        async for attempt in retrying:
            with attempt:
                tries += 1
                if failures:
                    raise failures.pop(0)
                return "batch_1", tries
    except ProviderError:
        return None, tries
    raise AssertionError("unreachable")


async def test_an_outage_is_retried_and_the_batch_goes_out() -> None:
    assert await _submit(QUICK, [ProviderUnavailable("503"), ProviderUnavailable("503")]) == ("batch_1", 3)


async def test_an_outage_gives_up_after_max_attempts() -> None:
    outage = [ProviderUnavailable("503") for _ in range(5)]
    assert await _submit(QUICK, outage) == (None, 3)


async def test_a_quota_refusal_is_waited_out_past_max_attempts() -> None:
    quota = [RateLimited("429") for _ in range(6)]
    assert await _submit(QUICK, quota) == ("batch_1", 7)


async def test_a_rejected_batch_is_not_retried() -> None:
    assert await _submit(QUICK, [ProviderRejected("400")]) == (None, 1)


@pytest.mark.parametrize(("retry_after", "expected"), [(7.0, 7.0), (None, 1.0)])
async def test_the_wait_is_the_providers_or_a_doubling_backoff(
    retry_after: float | None, expected: float
) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    policy = SubmitRetry(max_attempts=2, base_s=0.5, max_s=60)
    retrying = AsyncRetrying(retry=policy.retries, wait=policy.wait, sleep=record, reraise=True)
    async for attempt in retrying:
        with attempt:
            if attempt.retry_state.attempt_number == 1:
                raise ProviderUnavailable("503", retry_after=retry_after)
    assert waits == [expected]
