"""Error directives, SDK retries, sleeps and the server-wide latency and random-fault knobs."""

import time
from typing import Any

import anthropic
import openai
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from tests.integration.emulator.emulator_helpers import (
    CHAT,
    LOOKUP_SCHEMA,
    MESSAGES,
    anthropic_tool,
    openai_tool,
)

OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


async def test_a_429_once_is_retried_by_the_sdk_after_retry_after(
    emulator: EmulatorThread, openai_client: AsyncOpenAI
) -> None:
    client = openai_client.with_options(max_retries=2)
    reply = await client.chat.completions.create(model=OPENAI_MODEL, messages=user("hello [[error:429:1]]"))
    assert reply.choices[0].message.content == "echo: hello"
    stats = emulator.app.state.stats
    assert (stats.count(CHAT, 429), stats.count(CHAT, 200)) == (1, 1)


async def test_a_429_carries_retry_after_headers_and_the_openai_rate_limit_shape(
    openai_client: AsyncOpenAI,
) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        await openai_client.chat.completions.create(model=OPENAI_MODEL, messages=user("x [[error:429]]"))
    error = caught.value
    assert (error.status_code, error.code, error.type) == (429, "rate_limit_exceeded", "requests")
    assert error.response.headers["retry-after"] == "1"
    assert error.response.headers["retry-after-ms"] == "200"
    assert error.request_id is not None and error.request_id.startswith("req_")


async def test_always_failing_requests_surface_the_sdks_internal_server_error(
    emulator: EmulatorThread, openai_client: AsyncOpenAI
) -> None:
    client = openai_client.with_options(max_retries=1)
    with pytest.raises(openai.InternalServerError) as caught:
        await client.chat.completions.create(model=OPENAI_MODEL, messages=user("x [[error:500:always]]"))
    assert caught.value.status_code == 500 and caught.value.type == "server_error"
    assert emulator.app.state.stats.count(CHAT, 500) == 2


async def test_error_n_fails_exactly_the_first_n_attempts(
    emulator: EmulatorThread, openai_client: AsyncOpenAI
) -> None:
    client = openai_client.with_options(max_retries=3)
    reply = await client.chat.completions.create(model=OPENAI_MODEL, messages=user("x [[error:503:2]]"))
    assert reply.choices[0].message.content == "echo: x"
    stats = emulator.app.state.stats
    assert (stats.count(CHAT, 503), stats.count(CHAT, 200)) == (2, 1)


async def test_each_step_of_a_turn_counts_its_own_attempts(
    emulator: EmulatorThread, openai_client: AsyncOpenAI
) -> None:
    client = openai_client.with_options(max_retries=1)
    tools: Any = [openai_tool("lookup", LOOKUP_SCHEMA)]
    messages: list[Any] = user("[[tool:lookup]] [[error:429]]")
    first = await client.chat.completions.create(model=OPENAI_MODEL, messages=messages, tools=tools)
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "done"},
    ]
    final = await client.chat.completions.create(model=OPENAI_MODEL, messages=messages, tools=tools)
    assert final.choices[0].message.content == "echo: "
    stats = emulator.app.state.stats
    assert (stats.count(CHAT, 429), stats.count(CHAT, 200)) == (2, 2)


@pytest.mark.parametrize(
    ("status", "exception", "error_type"),
    [
        (400, openai.BadRequestError, "invalid_request_error"),
        (401, openai.AuthenticationError, "invalid_request_error"),
        (404, openai.NotFoundError, "invalid_request_error"),
        (503, openai.InternalServerError, "server_error"),
        (529, openai.InternalServerError, "server_error"),
    ],
)
async def test_openai_errors_are_parsed_into_the_sdks_exceptions(
    openai_client: AsyncOpenAI, status: int, exception: type[openai.APIStatusError], error_type: str
) -> None:
    with pytest.raises(exception) as caught:
        await openai_client.chat.completions.create(
            model=OPENAI_MODEL, messages=user(f"x [[error:{status}]]")
        )
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict) and caught.value.body["type"] == error_type


@pytest.mark.parametrize(
    ("status", "exception", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
async def test_anthropic_errors_have_its_shape_and_request_id(
    anthropic_client: AsyncAnthropic, status: int, exception: type[anthropic.APIStatusError], error_type: str
) -> None:
    with pytest.raises(exception) as caught:
        await anthropic_client.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=10, messages=user(f"x [[error:{status}]]")
        )
    error = caught.value
    assert error.status_code == status
    assert isinstance(error.body, dict) and error.body["type"] == "error"
    assert error.body["error"]["type"] == error_type
    assert error.request_id is not None and error.body["request_id"] == error.request_id


async def test_anthropic_overloaded_once_is_retried_by_the_sdk(
    emulator: EmulatorThread, anthropic_client: AsyncAnthropic
) -> None:
    client = anthropic_client.with_options(max_retries=2)
    tools: Any = [anthropic_tool("lookup", LOOKUP_SCHEMA)]
    message = await client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=10, messages=user("[[error:529:1]] [[tool:lookup]]"), tools=tools
    )
    assert message.stop_reason == "tool_use"
    stats = emulator.app.state.stats
    assert (stats.count(MESSAGES, 529), stats.count(MESSAGES, 200)) == (1, 1)


async def test_sleep_delays_the_answer(openai_client: AsyncOpenAI, anthropic_client: AsyncAnthropic) -> None:
    started = time.monotonic()
    await openai_client.chat.completions.create(model=OPENAI_MODEL, messages=user("[[sleep:300]]"))
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=5, messages=user("[[sleep:200]]")
    )
    assert time.monotonic() - started >= 0.2


async def test_configured_latency_delays_every_answer() -> None:
    with EmulatorThread(EmulatorConfig(latency_ms=150, jitter_ms=50, seed=3)) as slow:
        async with AsyncOpenAI(base_url=f"{slow.base_url}/v1", api_key="k", max_retries=0) as client:
            started = time.monotonic()
            await client.chat.completions.create(model=OPENAI_MODEL, messages=user("hi"))
            assert time.monotonic() - started >= 0.15


async def statuses_under_random_faults(config: EmulatorConfig, count: int) -> list[int]:
    """The status of ``count`` distinct requests to each API of a fresh emulator with ``config``."""
    statuses = []
    with EmulatorThread(config) as flaky:
        async with (
            AsyncOpenAI(base_url=f"{flaky.base_url}/v1", api_key="k", max_retries=0) as openai_client,
            AsyncAnthropic(base_url=flaky.base_url, api_key="k", max_retries=0) as anthropic_client,
        ):
            for index in range(count):
                try:
                    await openai_client.chat.completions.create(
                        model=OPENAI_MODEL, messages=user(f"q{index}")
                    )
                    statuses.append(200)
                except openai.APIStatusError as error:
                    statuses.append(error.status_code)
                try:
                    await anthropic_client.messages.create(
                        model=ANTHROPIC_MODEL, max_tokens=5, messages=user(f"q{index}")
                    )
                    statuses.append(200)
                except anthropic.APIStatusError as error:
                    statuses.append(-error.status_code)
    return statuses


async def test_random_faults_follow_the_rate_and_repeat_with_the_same_seed() -> None:
    config = EmulatorConfig(error_rate=0.5, seed=7)
    first = await statuses_under_random_faults(config, 40)
    assert first == await statuses_under_random_faults(config, 40)
    faults = [status for status in first if status != 200]
    assert 15 <= len(faults) <= 65
    assert {abs(status) for status in faults} <= {429, 500, 503, 529}
    assert 529 not in faults  # 529 is Anthropic's overloaded status only
    assert first != await statuses_under_random_faults(EmulatorConfig(error_rate=0.5, seed=8), 40)


async def test_an_error_rate_of_one_fails_every_model_request() -> None:
    statuses = await statuses_under_random_faults(EmulatorConfig(error_rate=1.0), 5)
    assert 200 not in statuses
