"""The gateway's pauses, retry-after, give-up errors and shares of the limits, as the turns calling it
see them: one provider's trouble holds back that provider only; the shares add up to the configured
limit across live workers."""

import asyncio

import pytest

from agentbatch.engine.gateway import EngineGateway, ProviderPause
from agentbatch.engine.rate_limits import DirectRateLimits
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle, ProviderCatalog
from agentbatch.providers.errors import ProviderError, ProviderRejected, ProviderUnavailable, RateLimited
from agentbatch.providers.quotas import ModelQuota
from agentbatch.providers.registry import ProviderRegistry
from tests.unit.test_gateway import HANDLE, REPLY, REQUEST, FakeClock, ScriptedModel

OTHER_PROVIDER = ModelHandle("anthropic", "claude")


class TimedModel:
    """Fails with the scripted errors first, then answers; notes the clock at each call."""

    def __init__(self, clock: FakeClock, failures: list[ProviderError] | None = None) -> None:
        self.clock = clock
        self.failures = list(failures or [])
        self.called_at: list[float] = []

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.called_at.append(self.clock.now)
        if self.failures:
            raise self.failures.pop(0)
        return REPLY

    async def close(self) -> None:
        pass


def gateway_of(
    models: dict[str, object],
    clock: FakeClock,
    *,
    budget: float = 300.0,
    concurrency: int = 4,
    rate_limits: DirectRateLimits | None = None,
) -> EngineGateway:
    registry = ProviderRegistry(ProviderCatalog())
    for provider, model in models.items():
        registry._models[provider] = model  # type: ignore[assignment]  # stands in for the SDK adapter
    return EngineGateway(
        registry,
        concurrency=concurrency,
        retry_budget_s=budget,
        backoff_base_s=1.0,
        backoff_max_s=4.0,
        clock=clock,
        sleep=clock.sleep,
        rate_limits=rate_limits,
    )


async def test_a_429_holds_back_its_own_provider_only_until_retry_after() -> None:
    clock = FakeClock()
    openai = TimedModel(clock, [RateLimited("slow down", status=429, retry_after=30.0)])
    anthropic = TimedModel(clock)
    gateway = gateway_of({"openai": openai, "anthropic": anthropic}, clock, budget=10.0)

    with pytest.raises(RateLimited):  # the pause is longer than this call's budget: it gives up at once
        await gateway.complete(HANDLE, REQUEST)
    assert clock.now == 0.0

    assert await gateway.complete(OTHER_PROVIDER, REQUEST) == REPLY
    assert anthropic.called_at == [0.0]  # another provider is not paused

    assert await gateway.complete(HANDLE, REQUEST) == REPLY
    assert openai.called_at == [0.0, 30.0]  # the next openai call waited out the provider's retry-after
    assert gateway.rate_limited == 1 and gateway.pauses == 1


async def test_a_429_without_retry_after_pauses_the_provider_for_a_backoff() -> None:
    clock = FakeClock()
    model = TimedModel(clock, [RateLimited("slow down", status=429)])
    gateway = gateway_of({"openai": model}, clock)

    assert await gateway.complete(HANDLE, REQUEST) == REPLY

    first_backoff = model.called_at[1] - model.called_at[0]
    assert 0.5 <= first_backoff <= 1.0  # half to all of the base backoff for a first attempt
    assert gateway.rate_limited == 1 and gateway.retries == 1


async def test_a_5xx_with_retry_after_is_retried_no_sooner_and_pauses_nobody_else() -> None:
    clock = FakeClock()
    model = TimedModel(clock, [ProviderUnavailable("busy", status=503, retry_after=20.0)])
    gateway = gateway_of({"openai": model}, clock)

    assert await gateway.complete(HANDLE, REQUEST) == REPLY

    assert model.called_at[0] == 0.0 and model.called_at[1] >= 20.0  # longer than any backoff (4 s)
    assert gateway.pauses == 0 and gateway.rate_limited == 0


async def test_a_retry_after_past_the_budget_gives_up_at_once_keeping_the_error_kind() -> None:
    clock = FakeClock()
    model = TimedModel(clock, [ProviderUnavailable("maintenance", status=503, retry_after=900.0)])
    gateway = gateway_of({"openai": model}, clock, budget=60.0)

    with pytest.raises(ProviderUnavailable) as raised:
        await gateway.complete(HANDLE, REQUEST)

    error = raised.value
    assert str(error) == "maintenance (gave up after 1 attempts over 0.0 s; the retry budget is 60 s)"
    assert error.status == 503 and error.retry_after == 900.0
    assert clock.now == 0.0 and len(model.called_at) == 1  # it never slept towards a retry it would not make


async def test_an_error_that_is_not_retryable_reaches_the_caller_as_it_was() -> None:
    clock = FakeClock()
    refusal = ProviderRejected("model not found", status=404)
    gateway = gateway_of({"openai": TimedModel(clock, [refusal])}, clock)

    with pytest.raises(ProviderRejected) as raised:
        await gateway.complete(HANDLE, REQUEST)

    assert raised.value is refusal and gateway.retries == 0


async def test_a_permanent_error_after_retries_is_reported_with_the_attempts_made() -> None:
    clock = FakeClock()
    failures: list[ProviderError] = [
        ProviderUnavailable("502", status=502),
        ProviderRejected("context too long", status=400),
    ]
    model = TimedModel(clock, failures)
    gateway = gateway_of({"openai": model}, clock)

    with pytest.raises(ProviderRejected, match=r"context too long \(gave up after 2 attempts over"):
        await gateway.complete(HANDLE, REQUEST)
    assert len(model.called_at) == 2


@pytest.mark.parametrize(("processes", "share"), [(1, 8), (2, 4), (3, 2), (8, 1), (20, 1), (0, 8)])
async def test_live_workers_each_take_an_equal_share_of_the_model_limit(processes: int, share: int) -> None:
    gateway = gateway_of({"openai": ScriptedModel()}, FakeClock(), concurrency=8)
    await gateway.complete(HANDLE, REQUEST)  # the model's limit now exists

    await gateway.share_with(processes)

    assert gateway.limit_of(str(HANDLE)) == share
    assert gateway.limit_of("openai/not-called-yet") == share  # a model first called later gets it too


async def test_a_smaller_share_bounds_the_calls_in_flight_from_then_on() -> None:
    hold = asyncio.Event()
    model = ScriptedModel(hold=hold)
    gateway = gateway_of({"openai": model}, FakeClock(), concurrency=6)
    await gateway.share_with(3)  # six calls shared by three workers: two each
    model.busy_at = 2

    calls = [asyncio.create_task(gateway.complete(HANDLE, REQUEST)) for _ in range(6)]
    await model.busy.wait()
    for _ in range(20):
        await asyncio.sleep(0)  # give the others the chance to (wrongly) start
    assert model.in_flight == 2

    hold.set()
    assert await asyncio.gather(*calls) == [REPLY] * 6
    assert model.most_in_flight == 2


@pytest.mark.parametrize(("processes", "go_at_once"), [(1, 4), (2, 2), (4, 1)])
async def test_a_requests_per_minute_quota_is_shared_by_the_live_workers(
    processes: int, go_at_once: int
) -> None:
    limits = DirectRateLimits({str(HANDLE): ModelQuota(requests_per_minute=4)})
    limits.share_with(processes)

    for _ in range(go_at_once):
        await asyncio.wait_for(limits.wait_for_room(HANDLE, REQUEST), timeout=1.0)
    assert limits.waits == 0

    over = asyncio.create_task(limits.wait_for_room(HANDLE, REQUEST))
    await asyncio.sleep(0)
    assert limits.waits == 1 and not over.done()  # the next one waits for room (a minute's worth)
    over.cancel()


async def test_a_call_bigger_than_its_tokens_per_minute_still_goes_instead_of_waiting_forever() -> None:
    limits = DirectRateLimits({str(HANDLE): ModelQuota(tokens_per_minute=5)})
    big = ModelRequest(model="m", system="x" * 4000, messages=[])

    await asyncio.wait_for(limits.wait_for_room(HANDLE, big), timeout=1.0)

    assert limits.waits == 0


async def test_models_without_a_quota_and_quotas_without_limits_never_wait() -> None:
    limits = DirectRateLimits({str(HANDLE): ModelQuota(requests_per_minute=None, tokens_per_minute=None)})
    for handle in (HANDLE, OTHER_PROVIDER):
        for _ in range(100):
            await limits.wait_for_room(handle, REQUEST)
    assert limits.waits == 0


def test_a_provider_pause_is_only_ever_extended_never_shortened() -> None:
    clock = FakeClock()
    pause = ProviderPause(clock, clock.sleep)
    pause.extend(30.0)
    pause.extend(5.0)  # a shorter retry-after from another call does not cut the pause short
    assert pause.remaining == 30.0
    clock.now = 25.0
    pause.extend(10.0)
    assert pause.remaining == 10.0
    clock.now = 40.0
    assert pause.remaining == 0.0


async def test_a_pause_extended_while_callers_wait_holds_them_until_its_new_end() -> None:
    clock = FakeClock()

    async def sleep_while_another_call_is_refused(seconds: float) -> None:
        await clock.sleep(seconds)
        if clock.now < 15.0:
            pause.extend(20.0)  # another call was refused meanwhile: now until 20 s from then

    pause = ProviderPause(clock, sleep_while_another_call_is_refused)
    pause.extend(10.0)
    await pause.wait()

    assert clock.now == 30.0
