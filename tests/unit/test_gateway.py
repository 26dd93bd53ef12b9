"""The engine's gateway: calls bounded per model, retried with backoff, paused per provider on 429."""

import asyncio

import pytest

from agentbatch.engine.gateway import EngineGateway
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle, ProviderCatalog
from agentbatch.providers.errors import ProviderRejected, ProviderUnavailable, RateLimited
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


def _gateway(model: ScriptedModel, *, concurrency: int = 4, attempts: int = 4) -> EngineGateway:
    registry = ProviderRegistry(ProviderCatalog())
    registry._models["openai"] = model  # the scripted model stands in for the SDK adapter
    return EngineGateway(
        registry, concurrency=concurrency, max_attempts=attempts, backoff_base_s=0.001, backoff_max_s=0.01
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

    down = ScriptedModel([ProviderUnavailable("503", status=503)] * 10)
    with pytest.raises(ProviderUnavailable):
        await _gateway(down, attempts=4).complete(HANDLE, REQUEST)
    assert down.calls == 4


async def test_a_429_pauses_every_call_to_that_provider_for_retry_after() -> None:
    model = ScriptedModel([RateLimited("429", status=429, retry_after=0.2)])
    gateway = _gateway(model)
    loop = asyncio.get_running_loop()

    first = asyncio.create_task(gateway.complete(HANDLE, REQUEST))
    await model.busy.wait()
    await asyncio.sleep(0)  # let the 429 reach the gateway
    paused_at = loop.time()
    second = await gateway.complete(HANDLE, REQUEST)  # another turn's call, after the 429
    await first

    assert second == REPLY and gateway.rate_limited == 1
    assert model.call_times[1] >= paused_at + 0.15  # it waited out the provider's pause
