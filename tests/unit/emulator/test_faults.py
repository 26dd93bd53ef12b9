"""Emulated errors in each provider's own shape, and the seeded random faults: the same seed and body
always fail the same attempts, so a flaky-provider test replays exactly."""

import math

import pytest

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.faults import anthropic_error, jitter_s, openai_error, random_fault, retry_headers
from agentbatch.emulator.ids import body_key

KEYS = [body_key({"messages": [{"role": "user", "content": f"request {n}"}]}) for n in range(400)]


@pytest.mark.parametrize("status", [429, 503, 529])
def test_statuses_a_client_should_wait_on_carry_both_retry_headers(status: int) -> None:
    assert retry_headers(status, 1_500) == {"retry-after": "2", "retry-after-ms": "1500"}


@pytest.mark.parametrize("wait_ms", [0, 1, 999, 1_000])
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(wait_ms: int) -> None:
    headers = retry_headers(429, wait_ms)
    assert headers["retry-after"] == str(max(1, math.ceil(wait_ms / 1000)))
    assert headers["retry-after-ms"] == str(wait_ms)


@pytest.mark.parametrize("status", [400, 401, 404, 500, 502, 504])
def test_other_statuses_carry_no_retry_headers(status: int) -> None:
    assert retry_headers(status, 1_500) == {}


def test_a_stock_openai_error_has_its_type_code_and_message() -> None:
    error = openai_error(404)
    assert error.status == 404
    assert error.body == {
        "error": {
            "message": "The model does not exist (emulated).",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }


def test_an_openai_error_with_its_own_message_has_no_stock_code() -> None:
    error = openai_error(400, "messages is required", param="messages")
    assert error.body["error"] == {
        "message": "messages is required",
        "type": "invalid_request_error",
        "param": "messages",
        "code": None,
    }


@pytest.mark.parametrize(("status", "kind"), [(418, "invalid_request_error"), (599, "server_error")])
def test_an_unlisted_openai_status_still_gets_a_client_or_server_error_type(status: int, kind: str) -> None:
    body = openai_error(status).body["error"]
    assert body["type"] == kind and str(status) in body["message"]


def test_an_openai_429_says_the_request_limit_is_exhausted_and_when_it_resets() -> None:
    error = openai_error(429, retry_after_ms=250)
    assert error.headers == {
        "retry-after": "1",
        "retry-after-ms": "250",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "250ms",
    }
    assert error.body["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (529, "overloaded_error"),
        (418, "invalid_request_error"),
        (599, "api_error"),
    ],
)
def test_anthropic_errors_have_anthropics_error_types(status: int, kind: str) -> None:
    body = anthropic_error(status, request_id="req_1").body
    assert body["type"] == "error"
    assert body["error"]["type"] == kind
    assert body["request_id"] == "req_1"


def test_an_anthropic_error_names_its_request_in_a_header_when_it_has_one() -> None:
    assert anthropic_error(500, request_id="req_9").headers == {"request-id": "req_9"}
    without = anthropic_error(500)
    assert without.headers == {} and without.body["request_id"] is None


def test_an_anthropic_429_says_no_requests_remain() -> None:
    headers = anthropic_error(429, retry_after_ms=2_000).headers
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert headers["retry-after"] == "2"


def test_without_an_error_rate_nothing_fails() -> None:
    config = EmulatorConfig(error_rate=0)
    assert all(random_fault(config, key, 1, anthropic=True) is None for key in KEYS)


@pytest.mark.parametrize(("anthropic", "statuses"), [(False, {429, 500, 503}), (True, {429, 500, 503, 529})])
def test_at_an_error_rate_of_one_every_request_fails_with_its_providers_transient_statuses(
    anthropic: bool, statuses: set[int]
) -> None:
    config = EmulatorConfig(error_rate=1, seed=7)
    drawn = {random_fault(config, key, 1, anthropic=anthropic) for key in KEYS}
    assert drawn == statuses  # every kind turns up over 400 requests, and nothing else


def test_the_share_of_failures_follows_the_error_rate() -> None:
    config = EmulatorConfig(error_rate=0.25, seed=3)
    failures = sum(random_fault(config, key, 1, anthropic=False) is not None for key in KEYS)
    assert 60 <= failures <= 140  # 100 expected; far outside this only if the rate were ignored


def test_faults_replay_for_the_same_seed_and_differ_for_another_or_a_retry() -> None:
    def schedule(seed: int, attempt: int) -> list[int | None]:
        config = EmulatorConfig(error_rate=0.5, seed=seed)
        return [random_fault(config, key, attempt, anthropic=False) for key in KEYS]

    assert schedule(1, 1) == schedule(1, 1)
    assert schedule(1, 1) != schedule(2, 1)
    assert schedule(1, 1) != schedule(1, 2)  # a retry of the same body gets a fresh draw


def test_latency_is_the_configured_delay_plus_seeded_jitter_below_the_bound() -> None:
    config = EmulatorConfig(latency_ms=100, jitter_ms=50, seed=4)
    delays = [jitter_s(config, key, 1) for key in KEYS]
    assert all(0.1 <= delay < 0.15 for delay in delays)
    assert len(set(delays)) > 300  # spread out, not one fixed value
    assert delays == [jitter_s(config, key, 1) for key in KEYS]


def test_without_jitter_the_latency_is_exact() -> None:
    assert jitter_s(EmulatorConfig(latency_ms=20), KEYS[0], 1) == pytest.approx(0.02)
    assert jitter_s(EmulatorConfig(), KEYS[0], 1) == 0


@pytest.mark.parametrize(
    "knobs",
    [
        {"latency_ms": -1},
        {"jitter_ms": -1},
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"batch_delay_s": -1},
        {"retry_after_ms": -1},
    ],
)
def test_impossible_emulator_settings_are_refused(knobs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(**knobs)  # type: ignore[arg-type]
