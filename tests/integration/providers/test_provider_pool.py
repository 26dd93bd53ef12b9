"""Provider processes: the same calls as in-process, run by child processes — and what happens when a
child is cancelled mid-call or dies."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from agentbatch.domain.messages import Message, Role, text_part
from agentbatch.emulator.server import EmulatorThread
from agentbatch.providers.base import ModelRequest
from agentbatch.providers.catalog import ModelHandle, ProviderCatalog, WireProtocol
from agentbatch.providers.errors import ProviderRejected, ProviderUnavailable, RateLimited
from agentbatch.providers.process_pool.pool import PooledTransport, ProviderProcessPool
from agentbatch.providers.registry import ProviderRegistry
from agentbatch.providers.wire_chat import WIRE_FORMATS, WireChat
from tests.support.live import point_sdks_at


def _request(text: str) -> ModelRequest:
    message = Message(
        id="m", agent_id="a", role=Role.USER, created_at=datetime.now(UTC), content=[text_part(text)]
    )
    return ModelRequest(model="emulated", system="You help.", messages=[message])


@pytest.fixture
async def pool(
    emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ProviderProcessPool]:
    point_sdks_at(monkeypatch, emulator)  # the children inherit the SDKs' variables
    started = ProviderProcessPool(2)
    await started.start()
    yield started
    await started.close()


def _chat(pool: ProviderProcessPool, provider: str) -> WireChat:
    protocol = WireProtocol.ANTHROPIC if provider == "anthropic" else WireProtocol.OPENAI
    return WireChat(WIRE_FORMATS[protocol], PooledTransport(pool, provider))


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_calls_run_in_the_children_and_answer_like_in_process(
    pool: ProviderProcessPool, provider: str
) -> None:
    chat = _chat(pool, provider)
    replies = await asyncio.gather(*(chat.complete(_request(f"hello {i}")) for i in range(20)))
    assert [reply.text for reply in replies] == [f"echo: hello {i}" for i in range(20)]
    assert all(reply.prompt_tokens > 0 for reply in replies)


async def test_provider_errors_cross_the_process_boundary_intact(pool: ProviderProcessPool) -> None:
    chat = _chat(pool, "openai")
    with pytest.raises(RateLimited) as limited:
        await chat.complete(_request("[[error:429:always]] hi"))
    assert limited.value.status == 429 and limited.value.retry_after is not None
    with pytest.raises(ProviderUnavailable) as down:
        await chat.complete(_request("[[error:503:always]] hi"))
    assert down.value.status == 503
    with pytest.raises(ProviderRejected):
        await chat.complete(_request("[[error:400:always]] hi"))


async def test_a_cancelled_call_is_abandoned_without_disturbing_the_others(pool: ProviderProcessPool) -> None:
    chat = _chat(pool, "openai")
    slow = asyncio.create_task(chat.complete(_request("[[sleep:30000]] slow")))
    quick = await chat.complete(_request("quick"))
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    after = await chat.complete(_request("after"))
    assert (quick.text, after.text) == ("echo: quick", "echo: after")


async def test_a_dead_child_fails_its_calls_as_unavailable_and_is_replaced(pool: ProviderProcessPool) -> None:
    chat = _chat(pool, "openai")
    in_flight = [asyncio.create_task(chat.complete(_request(f"[[sleep:30000]] {i}"))) for i in range(4)]
    await asyncio.sleep(0)  # the calls are handed to the children
    for pid in pool.pids:
        os.kill(pid, signal.SIGKILL)

    outcomes = await asyncio.gather(*in_flight, return_exceptions=True)

    assert all(isinstance(outcome, ProviderUnavailable) for outcome in outcomes)
    assert (await chat.complete(_request("again"))).text == "echo: again"


async def test_a_missing_key_is_reported_by_name(
    emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, emulator)
    monkeypatch.delenv("ANTHROPIC_API_KEY")

    registry = ProviderRegistry(ProviderCatalog(), ProviderProcessPool(1))
    with pytest.raises(ProviderRejected, match="ANTHROPIC_API_KEY is not set"):
        registry.chat_model(ModelHandle("anthropic", "m"))


async def test_an_idle_pool_runs_no_child_until_the_first_call(
    emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, emulator)
    idle = ProviderProcessPool(2)
    try:
        assert idle.pids == []  # a server that has not called a provider holds no provider process

        reply = await _chat(idle, "openai").complete(_request("first"))

        assert reply.text == "echo: first"
        assert len(idle.pids) == 2 and all(pid != os.getpid() for pid in idle.pids)
    finally:
        await idle.close()


def _holds(pid: int, library: str) -> bool:
    """Whether the process has a file of ``library`` mapped in (both SDKs build on pydantic: its compiled
    core mapped in means an SDK was imported)."""
    with open(f"/proc/{pid}/maps") as maps:
        return library in maps.read()


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads /proc")
async def test_a_started_child_holds_no_sdk_until_it_is_asked_to_call_a_provider(
    pool: ProviderProcessPool,
) -> None:
    assert len(pool.pids) == 2
    assert not any(_holds(pid, "pydantic_core") for pid in pool.pids)  # started and idle: no SDK

    reply = await _chat(pool, "openai").complete(_request("first"))

    assert reply.text == "echo: first"
    assert any(_holds(pid, "pydantic_core") for pid in pool.pids)
