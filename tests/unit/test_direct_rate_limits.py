"""Direct calls per minute and tokens per minute: a call over its model's rate waits for room and then
goes; it never fails, and other models are not held back."""

import asyncio

from agentbatch.engine.gateway import EngineGateway
from agentbatch.engine.rate_limits import DirectRateLimits
from agentbatch.providers.catalog import ModelHandle, ProviderCatalog
from agentbatch.providers.quotas import ModelQuota
from agentbatch.providers.registry import ProviderRegistry
from tests.support.polling import wait_for_async
from tests.unit.test_gateway import HANDLE, REPLY, REQUEST, ScriptedModel

OTHER = ModelHandle("openai", "other")


def _gateway(model: ScriptedModel, quota: ModelQuota, period_s: float) -> EngineGateway:
    registry = ProviderRegistry(ProviderCatalog())
    registry._models["openai"] = model  # type: ignore[assignment]  # stands in for the SDK adapter
    return EngineGateway(
        registry,
        concurrency=8,
        retry_budget_s=1.0,
        backoff_base_s=0.001,
        backoff_max_s=0.01,
        rate_limits=DirectRateLimits({str(HANDLE): quota}, period_s=period_s),
    )


async def _waits_then_goes(gateway: EngineGateway, model: ScriptedModel, first_calls: int) -> None:
    calls = [asyncio.create_task(gateway.complete(HANDLE, REQUEST)) for _ in range(first_calls + 1)]

    async def one_waits() -> bool:
        return model.calls == first_calls and gateway.rate_limits.waits >= 1

    await wait_for_async(one_waits, what="the call over the rate to wait")
    assert not calls[-1].done()  # held back, not failed
    assert await gateway.complete(OTHER, REQUEST) == REPLY  # another model is not held back
    assert await asyncio.gather(*calls) == [REPLY] * (first_calls + 1)  # it went once there was room
    assert model.calls == first_calls + 2


async def test_a_call_over_the_requests_per_minute_waits_then_goes() -> None:
    model = ScriptedModel()
    await _waits_then_goes(_gateway(model, ModelQuota(requests_per_minute=2), period_s=2.0), model, 2)


async def test_a_call_over_the_tokens_per_minute_waits_then_goes() -> None:
    model = ScriptedModel()
    # A request's estimate is some 35 tokens: a bucket of 60 admits one, the next waits for room.
    gateway = _gateway(model, ModelQuota(tokens_per_minute=60), period_s=2.0)
    await _waits_then_goes(gateway, model, 1)


async def test_without_a_quota_nothing_waits() -> None:
    model = ScriptedModel()
    gateway = _gateway(model, ModelQuota(), period_s=60.0)
    assert await asyncio.gather(*(gateway.complete(HANDLE, REQUEST) for _ in range(20))) == [REPLY] * 20
    assert gateway.rate_limits.waits == 0
