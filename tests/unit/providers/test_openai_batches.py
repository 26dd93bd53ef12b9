"""The OpenAI Batch API adapter against a stand-in SDK client: the JSONL it uploads, how each result line
reads, and when a whole batch counts as failed or over quota."""

from datetime import UTC, datetime
from typing import Any

import httpx2
import openai
import orjson
import pytest

from agentbatch.providers.errors import ProviderUnavailable, RateLimited
from agentbatch.providers.openai_batches import OpenAIBatches
from agentbatch.providers.provider_batches import (
    OPENAI_LIMITS,
    BatchStatus,
    LineKind,
    LineResult,
    RequestLine,
)
from tests.unit.providers.fake_batch_sdks import CREATED_AT, FakeOpenAI, openai_batch

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi \u2713"}]}


def adapter(fake: FakeOpenAI) -> OpenAIBatches:
    api = OpenAIBatches(base_url="http://provider.test/v1", api_key="k")
    api.sdk = fake  # type: ignore[assignment]
    return api


def output_line(custom_id: str, status: int, body: Any) -> bytes:
    return orjson.dumps(
        {"id": "r1", "custom_id": custom_id, "response": {"status_code": status, "body": body}}
    )


def error_line(custom_id: str, code: str | None, message: str | None = None) -> bytes:
    return orjson.dumps(
        {"id": "r1", "custom_id": custom_id, "response": None, "error": {"code": code, "message": message}}
    )


async def results_of(lines: list[bytes]) -> list[LineResult]:
    fake = FakeOpenAI(retrieved=openai_batch("batch_1", "completed", output_file_id="file-out"))
    fake.file_lines["file-out"] = lines
    return [line async for line in adapter(fake).results("batch_1")]


async def test_each_request_is_one_jsonl_line_carrying_its_custom_id_and_exact_body() -> None:
    fake = FakeOpenAI()
    body = orjson.dumps(BODY)
    lines = [RequestLine("batch_item-1-1-1", body), RequestLine('odd "id"\n', body)]

    batch_id = await adapter(fake).submit("lane-7", lines)

    assert batch_id == "batch_new"
    [uploaded] = fake.uploaded
    assert uploaded.endswith(b"\n") and uploaded.count(b"\n") == 2
    records = [orjson.loads(raw) for raw in uploaded.splitlines()]
    assert records == [
        {"method": "POST", "url": "/v1/chat/completions", "custom_id": line.custom_id, "body": BODY}
        for line in lines
    ]
    assert body in uploaded  # the body goes in byte for byte, never re-encoded


async def test_the_batch_is_created_for_chat_completions_with_the_submission_in_its_metadata() -> None:
    fake = FakeOpenAI()
    await adapter(fake).submit("lane-7", [RequestLine("c1", b"{}")])
    assert fake.created == [
        {
            "input_file_id": "file-in",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "metadata": {"agentbatch_submission": "lane-7"},
        }
    ]


async def test_a_refused_upload_is_a_provider_error_and_creates_no_batch() -> None:
    response = httpx2.Response(429, headers={"retry-after": "3"}, request=httpx2.Request("POST", "http://p"))
    fake = FakeOpenAI(failure=openai.RateLimitError("slow down", response=response, body=None))
    with pytest.raises(RateLimited) as caught:
        await adapter(fake).submit("lane-7", [RequestLine("c1", b"{}")])
    assert caught.value.retry_after == 3.0
    assert fake.created == []


async def test_an_interrupted_submission_is_found_by_its_metadata() -> None:
    since = datetime.fromtimestamp(CREATED_AT, UTC)
    fake = FakeOpenAI(
        batches_listed=[
            openai_batch("batch_other", metadata={"agentbatch_submission": "lane-8"}),
            openai_batch("batch_ours", metadata={"agentbatch_submission": "lane-7"}),
        ]
    )
    assert await adapter(fake).find("lane-7", 2, since) == "batch_ours"
    assert await adapter(fake).find("lane-9", 2, since) is None


async def test_the_search_stops_at_batches_older_than_the_submission() -> None:
    since = datetime.fromtimestamp(CREATED_AT, UTC)
    fake = FakeOpenAI(
        batches_listed=[
            openai_batch("batch_old", created_at=CREATED_AT - 3_600),
            openai_batch("batch_ours_but_older", metadata={"agentbatch_submission": "lane-7"}),
        ]
    )
    assert await adapter(fake).find("lane-7", 1, since) is None


@pytest.mark.parametrize(
    ("status", "ended"),
    [
        ("validating", False),
        ("in_progress", False),
        ("finalizing", False),
        ("cancelling", False),
        ("completed", True),
        ("expired", True),
        ("cancelled", True),
    ],
)
async def test_a_batch_has_ended_once_the_provider_says_it_is_done(status: str, ended: bool) -> None:
    fake = FakeOpenAI(retrieved=openai_batch("batch_1", status))
    assert await adapter(fake).status("batch_1") == BatchStatus(ended=ended)


async def test_a_failed_batch_says_why_and_whether_it_was_the_queue_quota() -> None:
    errors = {
        "object": "list",
        "data": [
            {"code": "token_limit_exceeded", "message": "Enqueued token limit reached for gpt-4o-mini."},
            {"code": "invalid_json", "message": "Line 3 is not JSON.", "line": 3},
        ],
    }
    fake = FakeOpenAI(retrieved=openai_batch("batch_1", "failed", errors=errors))
    assert await adapter(fake).status("batch_1") == BatchStatus(
        ended=True,
        failed="Enqueued token limit reached for gpt-4o-mini.; Line 3 is not JSON.",
        over_quota=True,
    )


async def test_a_failed_batch_without_details_still_names_a_failure() -> None:
    fake = FakeOpenAI(retrieved=openai_batch("batch_1", "failed"))
    status = await adapter(fake).status("batch_1")
    assert status.ended and status.failed == "the provider batch failed" and not status.over_quota


async def test_a_succeeded_line_carries_the_reply_body() -> None:
    reply = {"id": "chatcmpl-1", "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}
    assert await results_of([output_line("c1", 200, reply)]) == [
        LineResult("c1", LineKind.SUCCEEDED, body=reply)
    ]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (404, False),
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (503, True),
    ],
)
async def test_an_errored_line_is_retried_only_when_the_provider_may_answer_next_time(
    status: int, retryable: bool
) -> None:
    body = {"error": {"message": "nope", "type": "x"}}
    [result] = await results_of([output_line("c1", status, body)])
    assert result == LineResult(
        "c1", LineKind.ERRORED, error=f"Error code: {status} - nope", retryable=retryable
    )


async def test_an_errored_line_whose_body_is_not_an_error_object_is_quoted() -> None:
    [result] = await results_of([output_line("c1", 502, "Bad Gateway")])
    assert (
        result.kind is LineKind.ERRORED
        and result.error == "Error code: 502 - Bad Gateway"
        and result.retryable
    )


async def test_a_200_line_without_a_body_is_an_error_not_a_success() -> None:
    [result] = await results_of([output_line("c1", 200, None)])
    assert result.kind is LineKind.ERRORED


@pytest.mark.parametrize(
    ("code", "message", "kind", "error"),
    [
        (
            "batch_expired",
            "This request could not be executed before the completion window expired.",
            LineKind.EXPIRED,
            None,
        ),
        ("batch_cancelled", "This request was cancelled.", LineKind.CANCELED, None),
        ("server_error", None, LineKind.ERRORED, "server_error"),
        (None, None, LineKind.ERRORED, "no response"),
    ],
)
async def test_a_line_without_a_response_reads_as_expired_cancelled_or_errored(
    code: str | None, message: str | None, kind: LineKind, error: str | None
) -> None:
    [result] = await results_of([error_line("c1", code, message)])
    assert result.kind is kind
    assert result.error == (error or message)
    assert result.retryable == (kind is LineKind.ERRORED)


async def test_results_come_from_the_output_file_then_the_error_file_skipping_blank_lines() -> None:
    fake = FakeOpenAI(
        retrieved=openai_batch("batch_1", "completed", output_file_id="file-out", error_file_id="file-err")
    )
    fake.file_lines["file-out"] = [output_line("a", 200, {"choices": []}), b"", b"   "]
    fake.file_lines["file-err"] = [error_line("b", "batch_expired", "late")]
    results = [line async for line in adapter(fake).results("batch_1")]
    assert [(line.custom_id, line.kind) for line in results] == [
        ("a", LineKind.SUCCEEDED),
        ("b", LineKind.EXPIRED),
    ]


async def test_a_batch_with_no_files_yet_has_no_results() -> None:
    fake = FakeOpenAI(retrieved=openai_batch("batch_1", "in_progress"))
    assert [line async for line in adapter(fake).results("batch_1")] == []


async def test_cancel_and_close_reach_the_sdk_and_its_failures_are_mapped() -> None:
    fake = FakeOpenAI()
    api = adapter(fake)
    await api.cancel("batch_1")
    await api.close()
    assert fake.cancelled == ["batch_1"] and fake.closed

    response = httpx2.Response(500, request=httpx2.Request("POST", "http://p"))
    fake.failure = openai.InternalServerError("boom", response=response, body=None)
    with pytest.raises(ProviderUnavailable):
        await api.cancel("batch_1")


def test_the_limits_are_openais_published_ones() -> None:
    assert OpenAIBatches.limits == OPENAI_LIMITS == (50_000, 200 * 1024 * 1024)
