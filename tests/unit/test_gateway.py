"""The engine's gateway: calls bounded per model, retried with backoff for a budget of time, paused per
provider on 429, refused connections and timeouts."""

import asyncio

import pytest

from agentbatch.engine.gateway import EngineGateway
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle, ProviderCatalog
from agentbatch.providers.errors import (
    ProviderRejected,
    ProviderTimedOut,
    ProviderUnavailable,
    ProviderUnreachable,
    RateLimited,
)
from agentbatch.providers.registry import ProviderRegistry

HANDLE = ModelHandle("openai", "m")
REQUEST = ModelRequest(model="m", system="s", messages=[])
REPLY = ModelResponse(
    text="ok", tool_calls=[], finish="stop", prompt_tokens=1, completion_tokens=1, model="m"
)


class ScriptedModel:
    """Fails with the scripted errors first, then answers; records how many calls overlap."""

    def __init__(self, failures: list[Exception] | None = None, hold: asyncio.Event | None = None) -> None:
        self.failures = list(failures or [])
        self.hold = hold
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.call_times: list[float] = []
        self.busy = asyncio.Event()  # set once `busy_at` calls are in flight together
        self.busy_at = 1

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        self.call_times.append(asyncio.get_running_loop().time())
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.in_flight >= self.busy_at:
            self.busy.set()
        try:
            if self.hold is not None:
                await self.hold.wait()
            if self.failures:
                raise self.failures.pop(0)
            return REPLY
        finally:
            self.in_flight -= 1

    async def close(self) -> None:
        pass


class FakeClock:
    """Time that passes only when someone sleeps: minutes of outage in milliseconds of test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


class OutageModel:
    """Unreachable (or timing out) until ``until`` on the clock, then answers; counts the calls."""

    def __init__(self, clock: FakeClock, until: float, error: type[ProviderUnavailable]) -> None:
        self.clock = clock
        self.until = until
        self.error = error
        self.calls = 0
        self.failed_at: list[float] = []

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        if self.clock.now < self.until:
            self.failed_at.append(self.clock.now)
            raise self.error("connection refused by the provider ([Errno 111] Connect call failed)")
        return REPLY

    async def close(self) -> None:
        pass


def _gateway(
    model: object,
    *,
    concurrency: int = 4,
    budget: float = 0.2,
    clock: FakeClock | None = None,
    base: float = 0.001,
    cap: float = 0.01,
) -> EngineGateway:
    registry = ProviderRegistry(ProviderCatalog())
    registry._models["openai"] = model  # type: ignore[assignment]  # stands in for the SDK adapter
    if clock is None:
        return EngineGateway(
            registry, concurrency=concurrency, retry_budget_s=budget, backoff_base_s=base, backoff_max_s=cap
        )
    return EngineGateway(
        registry,
        concurrency=concurrency,
        retry_budget_s=budget,
        backoff_base_s=base,
        backoff_max_s=cap,
        clock=clock,
        sleep=clock.sleep,
    )


async def test_no_more_calls_than_the_model_bound_are_in_flight() -> None:
    hold = asyncio.Event()
    model = ScriptedModel(hold=hold)
    model.busy_at = 3
    gateway = _gateway(model, concurrency=3)

    calls = [asyncio.create_task(gateway.complete(HANDLE, REQUEST)) for _ in range(10)]
    await model.busy.wait()
    for _ in range(20):
        await asyncio.sleep(0)  # give every other call the chance to (wrongly) start
    assert model.in_flight == 3
    hold.set()
    await asyncio.gather(*calls)
    assert model.most_in_flight == 3 and model.calls == 10


async def test_transient_failures_are_retried_and_permanent_ones_are_not() -> None:
    flaky = ScriptedModel([ProviderUnavailable("503", status=503), ProviderUnavailable("500", status=500)])
    assert await _gateway(flaky).complete(HANDLE, REQUEST) == REPLY
    assert flaky.calls == 3

    rejected = ScriptedModel([ProviderRejected("400", status=400)])
    with pytest.raises(ProviderRejected):
        await _gateway(rejected).complete(HANDLE, REQUEST)
    assert rejected.calls == 1

    down = ScriptedModel([ProviderUnavailable("503", status=503)] * 1000)
    with pytest.raises(ProviderUnavailable, match=r"503 \(gave up after \d+ attempts over"):
        await _gateway(down, budget=0.1).complete(HANDLE, REQUEST)
    assert 3 < down.calls < 1000  # bounded by the budget of time, not by a count


async def test_a_429_pauses_every_call_to_that_provider_for_retry_after() -> None:
    model = ScriptedModel([RateLimited("429", status=429, retry_after=0.2)])
    gateway = _gateway(model, budget=5.0)
    loop = asyncio.get_running_loop()

    first = asyncio.create_task(gateway.complete(HANDLE, REQUEST))
    await model.busy.wait()
    await asyncio.sleep(0)  # let the 429 reach the gateway
    paused_at = loop.time()
    second = await gateway.complete(HANDLE, REQUEST)  # another turn's call, after the 429
    await first

    assert second == REPLY and gateway.rate_limited == 1
    assert model.call_times[1] >= paused_at + 0.15  # it waited out the provider's pause


@pytest.mark.parametrize("error", [ProviderUnreachable, ProviderTimedOut])
async def test_an_outage_shorter_than_the_budget_is_ridden_through_by_every_call(
    error: type[ProviderUnavailable],
) -> None:
    clock = FakeClock()
    model = OutageModel(clock, until=60.0, error=error)  # a one-minute outage
    gateway = _gateway(model, concurrency=8, budget=300.0, clock=clock, base=0.5, cap=30.0)

    replies = await asyncio.gather(*(gateway.complete(HANDLE, REQUEST) for _ in range(20)))

    assert replies == [REPLY] * 20
    assert gateway.pauses > 0  # the provider was paused for everyone ...
    # ... so the outage cost a handful of probes, not 20 turns each retrying on its own schedule
    assert len(model.failed_at) < 20 * 6
    assert clock.now < 60.0 + 30.0  # back within one capped backoff of the provider's return


async def test_an_outage_longer_than_the_budget_fails_naming_what_happened() -> None:
    clock = FakeClock()
    model = OutageModel(clock, until=10_000.0, error=ProviderUnreachable)
    gateway = _gateway(model, budget=120.0, clock=clock, base=0.5, cap=30.0)

    with pytest.raises(ProviderUnreachable) as raised:
        await gateway.complete(HANDLE, REQUEST)

    message = str(raised.value)
    assert "connection refused" in message and "timed out" not in message
    assert "gave up after" in message and "retry budget is 120 s" in message
    assert 120.0 - 30.0 <= clock.now <= 120.0  # it used its budget, and never slept past it
    assert model.calls < 30  # capped backoff, not a tight loop


async def test_a_refused_connection_pauses_every_call_to_that_provider() -> None:
    model = ScriptedModel([ProviderUnreachable("connection refused by the provider")])
    gateway = _gateway(model, budget=5.0, base=0.4, cap=0.4)  # a pause of 0.2-0.4 s
    loop = asyncio.get_running_loop()

    first = asyncio.create_task(gateway.complete(HANDLE, REQUEST))
    await model.busy.wait()
    await asyncio.sleep(0)  # let the refusal reach the gateway
    refused_at = loop.time()
    second = await gateway.complete(HANDLE, REQUEST)  # another turn's call, after the refusal
    await first

    assert second == REPLY and gateway.pauses == 1 and gateway.rate_limited == 0
    assert model.call_times[1] >= refused_at + 0.15  # it waited out the provider's pause


def test_backoff_is_jittered_but_never_collapses_towards_zero() -> None:
    gateway = _gateway(ScriptedModel(), base=0.5, cap=30.0)
    for attempt, ceiling in [(1, 0.5), (3, 2.0), (6, 16.0), (12, 30.0)]:
        waits = [gateway._backoff(attempt) for _ in range(2000)]
        assert min(waits) >= ceiling / 2 and max(waits) <= ceiling
        assert max(waits) - min(waits) > ceiling / 4  # still spread out
