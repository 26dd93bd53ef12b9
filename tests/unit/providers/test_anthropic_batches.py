"""The Anthropic Message Batches adapter against a stand-in SDK client: the requests it sends, how an
interrupted submission is recognised without metadata, and how each result reads."""

from datetime import UTC, datetime
from typing import Any

import anthropic
import httpx2
import orjson
import pytest

from agentbatch.providers import anthropic_wire
from agentbatch.providers.anthropic_batches import AnthropicBatches
from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import ProviderRejected, ProviderUnavailable
from agentbatch.providers.provider_batches import (
    ANTHROPIC_LIMITS,
    BatchStatus,
    LineKind,
    LineResult,
    RequestLine,
    parse_reply,
)
from tests.unit.providers.fake_batch_sdks import FakeAnthropic, anthropic_batch

SINCE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PARAMS = {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-haiku-4-5",
    "content": [{"type": "text", "text": "hello"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
}


def adapter(fake: FakeAnthropic) -> AnthropicBatches:
    api = AnthropicBatches(base_url="http://provider.test", api_key="k")
    api.sdk = fake  # type: ignore[assignment]
    return api


def errored(error_type: str, message: str = "it went wrong") -> dict[str, Any]:
    return {"type": "errored", "error": {"type": "error", "error": {"type": error_type, "message": message}}}


async def results_of(*entries: tuple[str, dict[str, Any]]) -> list[LineResult]:
    fake = FakeAnthropic(
        results_lines=[{"custom_id": custom_id, "result": result} for custom_id, result in entries]
    )
    return [line async for line in adapter(fake).results("msgbatch_1")]


async def test_each_request_is_sent_with_its_custom_id_and_the_body_as_params() -> None:
    fake = FakeAnthropic()
    lines = [
        RequestLine("batch_item-1-1-1", orjson.dumps(PARAMS)),
        RequestLine("batch_item-2-1-1", orjson.dumps(PARAMS)),
    ]
    assert await adapter(fake).submit("lane-7", lines) == "msgbatch_new"
    assert fake.created == [
        [
            {"custom_id": "batch_item-1-1-1", "params": PARAMS},
            {"custom_id": "batch_item-2-1-1", "params": PARAMS},
        ]
    ]


async def test_a_refused_submission_is_a_rejection_the_engine_does_not_retry() -> None:
    response = httpx2.Response(413, request=httpx2.Request("POST", "http://p"))
    fake = FakeAnthropic(failure=anthropic.APIStatusError("request_too_large", response=response, body=None))
    with pytest.raises(ProviderRejected) as caught:
        await adapter(fake).submit("lane-7", [RequestLine("c1", orjson.dumps(PARAMS))])
    assert caught.value.status == 413 and not caught.value.retryable


async def test_an_interrupted_submission_is_the_oldest_batch_since_then_with_as_many_requests() -> None:
    fake = FakeAnthropic(
        batches_listed=[  # newest first, as the API lists them
            anthropic_batch("msgbatch_later_same_size", "2026-01-01T12:05:00Z", processing=2),
            anthropic_batch("msgbatch_other_size", "2026-01-01T12:03:00Z", processing=3),
            anthropic_batch("msgbatch_ours", "2026-01-01T12:00:30Z", succeeded=1, errored=1),
            anthropic_batch("msgbatch_before", "2026-01-01T11:00:00Z", processing=2),
        ]
    )
    assert await adapter(fake).find("lane-7", 2, SINCE) == "msgbatch_ours"


async def test_no_batch_of_that_size_since_the_submission_means_it_never_arrived() -> None:
    fake = FakeAnthropic(
        batches_listed=[
            anthropic_batch("msgbatch_other_size", "2026-01-01T12:03:00Z", processing=3),
            anthropic_batch("msgbatch_long_ago", "2026-01-01T10:00:00Z", processing=2),
        ]
    )
    assert await adapter(fake).find("lane-7", 2, SINCE) is None


@pytest.mark.parametrize(
    ("processing_status", "ended"), [("in_progress", False), ("canceling", False), ("ended", True)]
)
async def test_a_batch_has_ended_once_its_processing_has(processing_status: str, ended: bool) -> None:
    fake = FakeAnthropic(retrieved=anthropic_batch("msgbatch_1", "2026-01-01T12:00:00Z", processing_status))
    assert await adapter(fake).status("msgbatch_1") == BatchStatus(ended=ended)


async def test_a_succeeded_result_carries_the_message_as_the_direct_reply_json() -> None:
    [result] = await results_of(("c1", {"type": "succeeded", "message": MESSAGE}))
    assert result.kind is LineKind.SUCCEEDED and result.custom_id == "c1"
    # the SDK's model adds null fields; what matters is that it reads exactly as the direct reply does
    assert parse_reply(WireProtocol.ANTHROPIC, result.body) == anthropic_wire.parse_response(MESSAGE)
    assert parse_reply(WireProtocol.ANTHROPIC, result.body).text == "hello"


@pytest.mark.parametrize(
    ("error_type", "retryable"),
    [
        ("overloaded_error", True),
        ("api_error", True),
        ("rate_limit_error", True),
        ("timeout_error", True),
        ("invalid_request_error", False),
        ("authentication_error", False),
        ("permission_error", False),
        ("not_found_error", False),
    ],
)
async def test_an_errored_result_is_retried_only_for_transient_errors(
    error_type: str, retryable: bool
) -> None:
    [result] = await results_of(("c1", errored(error_type, "details")))
    assert result == LineResult("c1", LineKind.ERRORED, error=f"{error_type}: details", retryable=retryable)


async def test_expired_and_canceled_results_say_so() -> None:
    results = await results_of(("e", {"type": "expired"}), ("c", {"type": "canceled"}))
    assert [(line.custom_id, line.kind, line.retryable) for line in results] == [
        ("e", LineKind.EXPIRED, False),
        ("c", LineKind.CANCELED, False),
    ]
    assert all(line.error for line in results)


async def test_cancel_and_close_reach_the_sdk_and_its_failures_are_mapped() -> None:
    fake = FakeAnthropic()
    api = adapter(fake)
    await api.cancel("msgbatch_1")
    await api.close()
    assert fake.cancelled == ["msgbatch_1"] and fake.closed

    response = httpx2.Response(529, request=httpx2.Request("POST", "http://p"))
    fake.failure = anthropic.APIStatusError("overloaded", response=response, body=None)
    with pytest.raises(ProviderUnavailable):
        await api.status("msgbatch_1")


def test_the_limits_are_anthropics_published_ones() -> None:
    assert AnthropicBatches.limits == ANTHROPIC_LIMITS == (100_000, 256 * 1024 * 1024)
