"""Ways to run the emulator (thread, ASGI app, aiohttp-backed SDKs) and its non-model endpoints."""

import socket
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from agentbatch.emulator.app import create_app
from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread

HELLO: Any = [{"role": "user", "content": "hello"}]


def test_the_thread_serves_on_a_free_port_and_stops_on_exit() -> None:
    with EmulatorThread(EmulatorConfig()) as running:
        assert running.base_url == f"http://127.0.0.1:{running.port}"
        with socket.create_connection(("127.0.0.1", running.port), timeout=1):
            pass
        client = openai.OpenAI(base_url=f"{running.base_url}/v1", api_key="k", max_retries=0)
        reply = client.chat.completions.create(model="gpt-4o", messages=HELLO)
        assert reply.choices[0].message.content == "echo: hello"
    port = running.port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


async def test_the_asgi_app_serves_the_sdks_without_a_network() -> None:
    app = create_app(EmulatorConfig())
    transport = httpx2.ASGITransport(app=app)
    async with (
        httpx2.AsyncClient(transport=transport, base_url="http://emulator") as http,
        AsyncOpenAI(base_url="http://emulator/v1", api_key="k", http_client=http) as openai_client,
        AsyncAnthropic(base_url="http://emulator", api_key="k", http_client=http) as anthropic_client,
    ):
        reply = await openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)
        assert reply.choices[0].message.content == "echo: hello"
        message = await anthropic_client.messages.create(
            model="claude-haiku-4-5", max_tokens=8, messages=HELLO
        )
        assert message.content[0].type == "text" and message.content[0].text == "echo: hello"


async def test_the_sdks_aiohttp_transports_work(emulator: EmulatorThread) -> None:
    async with (
        AsyncOpenAI(
            base_url=f"{emulator.base_url}/v1", api_key="k", http_client=openai.DefaultAioHttpClient()
        ) as openai_client,
        AsyncAnthropic(
            base_url=emulator.base_url, api_key="k", http_client=anthropic.DefaultAioHttpClient()
        ) as anthropic_client,
    ):
        reply = await openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)
        assert reply.choices[0].message.content == "echo: hello"
        message = await anthropic_client.messages.create(
            model="claude-haiku-4-5", max_tokens=8, messages=HELLO
        )
        assert message.stop_reason == "end_turn"


async def test_unknown_urls_are_404s_in_each_providers_shape(
    openai_client: AsyncOpenAI, anthropic_client: AsyncAnthropic
) -> None:
    with pytest.raises(openai.NotFoundError) as openai_caught:
        await openai_client.get("/no/such/path", cast_to=object)
    assert openai_caught.value.type == "invalid_request_error"
    assert "Invalid URL (GET /v1/no/such/path)" in openai_caught.value.message
    with pytest.raises(anthropic.NotFoundError) as anthropic_caught:
        await anthropic_client.get("/v1/no/such/path", cast_to=object)
    assert isinstance(anthropic_caught.value.body, dict)
    assert anthropic_caught.value.body["error"]["type"] == "not_found_error"


async def test_the_stats_endpoint_counts_model_requests_by_status(
    openai_client: AsyncOpenAI, anthropic_client: AsyncAnthropic
) -> None:
    await openai_client.chat.completions.create(model="gpt-4o", messages=HELLO)
    with pytest.raises(openai.RateLimitError):
        await openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "[[error:429]]"}]
        )
    stats = await anthropic_client.get("/_emulator/stats", cast_to=object)
    assert stats == {
        "requests": {"POST /v1/chat/completions": {"200": 1, "429": 1}},
        "in_flight": 0,
        "peak_in_flight": 1,
    }
