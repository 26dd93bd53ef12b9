"""Each SDK's exceptions become the engine's provider errors at the border: what is retried, what pauses
the provider, and how long the provider asked us to wait."""

from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from agentbatch.providers.errors import (
    InvalidResponse,
    ProviderError,
    ProviderRejected,
    ProviderTimedOut,
    ProviderUnavailable,
    ProviderUnreachable,
    RateLimited,
    mapped_errors,
    parse_json,
    retry_after_seconds,
)
from agentbatch.providers.sdk_clients import anthropic_errors, openai_errors

REQUEST = httpx2.Request("POST", "https://provider.test/v1/chat/completions")
SDKS = {"openai": (openai, openai_errors()), "anthropic": (anthropic, anthropic_errors())}
"""Each SDK module with the exception table its clients are mapped through (``providers/sdk_clients.py``)."""


def status_error(sdk: Any, status: int, headers: dict[str, str] | None = None) -> Exception:
    """The exception the SDK raises for this HTTP status (429 has its own class; the others share a base)."""
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    kind = sdk.RateLimitError if status == 429 else sdk.APIStatusError
    error: Exception = kind(f"Error code: {status}", response=response, body=None)
    return error


def raised_through(sdk_name: str, error: BaseException) -> ProviderError:
    _, exceptions = SDKS[sdk_name]
    with pytest.raises(ProviderError) as caught, mapped_errors(exceptions):
        raise error
    assert caught.value.__cause__ is error  # the SDK's exception stays attached for the logs
    return caught.value


@pytest.mark.parametrize("sdk_name", sorted(SDKS))
@pytest.mark.parametrize(
    ("status", "kind", "retryable", "pauses"),
    [
        (429, RateLimited, True, True),
        (500, ProviderUnavailable, True, False),
        (502, ProviderUnavailable, True, False),
        (503, ProviderUnavailable, True, False),
        (529, ProviderUnavailable, True, False),
        (408, ProviderUnavailable, True, False),
        (409, ProviderUnavailable, True, False),
        (400, ProviderRejected, False, False),
        (401, ProviderRejected, False, False),
        (403, ProviderRejected, False, False),
        (404, ProviderRejected, False, False),
        (422, ProviderRejected, False, False),
    ],
)
def test_an_http_status_maps_to_what_the_engine_does_next(
    sdk_name: str, status: int, kind: type[ProviderError], retryable: bool, pauses: bool
) -> None:
    sdk, _ = SDKS[sdk_name]
    mapped = raised_through(sdk_name, status_error(sdk, status))
    assert type(mapped) is kind
    assert mapped.status == status
    assert (mapped.retryable, mapped.pauses_provider) == (retryable, pauses)


@pytest.mark.parametrize("sdk_name", sorted(SDKS))
@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (429, {"retry-after": "7"}, 7.0),
        (429, {"retry-after-ms": "250", "retry-after": "7"}, 0.25),  # the finer header wins
        (503, {"retry-after": "2"}, 2.0),
        (429, {}, None),
    ],
)
def test_the_providers_requested_wait_travels_with_the_error(
    sdk_name: str, status: int, headers: dict[str, str], wait: float | None
) -> None:
    sdk, _ = SDKS[sdk_name]
    assert raised_through(sdk_name, status_error(sdk, status, headers)).retry_after == wait


@pytest.mark.parametrize("sdk_name", sorted(SDKS))
def test_a_rejected_request_carries_no_wait_even_if_the_provider_sent_one(sdk_name: str) -> None:
    sdk, _ = SDKS[sdk_name]
    mapped = raised_through(sdk_name, status_error(sdk, 400, {"retry-after": "5"}))
    assert isinstance(mapped, ProviderRejected) and mapped.retry_after is None


@pytest.mark.parametrize("sdk_name", sorted(SDKS))
def test_a_timeout_and_a_refused_connection_are_told_apart(sdk_name: str) -> None:
    sdk, _ = SDKS[sdk_name]
    timed_out = raised_through(sdk_name, sdk.APITimeoutError(request=REQUEST))
    assert isinstance(timed_out, ProviderTimedOut) and timed_out.pauses_provider

    refused = sdk.APIConnectionError(request=REQUEST)
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert isinstance(raised_through(sdk_name, refused), ProviderUnreachable)


@pytest.mark.parametrize("sdk_name", sorted(SDKS))
def test_any_other_sdk_failure_is_a_plain_provider_error_that_is_not_retried(sdk_name: str) -> None:
    sdk, _ = SDKS[sdk_name]
    base: Callable[[str], Exception] = sdk.OpenAIError if sdk is openai else sdk.AnthropicError
    mapped = raised_through(sdk_name, base("the client was misconfigured"))
    assert type(mapped) is ProviderError
    assert not mapped.retryable and "misconfigured" in str(mapped)


def test_errors_that_are_not_the_sdks_pass_through_untouched() -> None:
    _, exceptions = SDKS["openai"]
    with pytest.raises(KeyError), mapped_errors(exceptions):
        raise KeyError("a bug of ours, not the provider's")


class Headers(dict[str, str]):
    pass


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        (Headers({"retry-after": "3"}), 3.0),
        (Headers({"retry-after": "0.5"}), 0.5),
        (Headers({"retry-after-ms": "1500"}), 1.5),
        (Headers({"retry-after-ms": "soon", "retry-after": "4"}), 4.0),  # an unreadable value is skipped
        (Headers({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}), None),  # an HTTP date: not read
        (Headers({"retry-after": "-1"}), None),
        (Headers({"retry-after": "601"}), None),  # longer than anyone should wait inside a call
        (Headers({"retry-after": "600"}), 600.0),
        (Headers(), None),
        (None, None),
        (object(), None),
    ],
)
def test_retry_after_is_read_only_when_present_and_sane(headers: object, seconds: float | None) -> None:
    assert retry_after_seconds(headers) == seconds


def test_an_answer_that_is_not_json_is_an_invalid_response_quoting_its_start() -> None:
    page = b"<html><body>502 Bad Gateway</body></html>" + b"x" * 5_000
    with pytest.raises(InvalidResponse, match="not JSON") as caught:
        parse_json(page)
    assert "502 Bad Gateway" in str(caught.value)
    assert len(str(caught.value)) < 300


def test_a_json_answer_is_parsed() -> None:
    assert parse_json(b'{"choices": []}') == {"choices": []}
