"""Errors in each provider's own shape, and the seeded random faults of ``error_rate``."""

import math
from dataclasses import dataclass, field
from typing import Any

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.ids import uniform

_RETRYABLE_WITH_DELAY = frozenset({429, 503, 529})
_OPENAI_FAULTS = (429, 500, 503)
_ANTHROPIC_FAULTS = (429, 500, 503, 529)

# status -> (type, code, message)
_OPENAI_KINDS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request (emulated)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided (emulated)."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden (emulated)."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist (emulated)."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests (emulated)."),
    500: ("server_error", None, "The server had an error while processing your request (emulated)."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later (emulated)."),
}
# status -> (type, message)
_ANTHROPIC_KINDS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request (emulated)."),
    401: ("authentication_error", "invalid x-api-key (emulated)."),
    402: ("billing_error", "Billing problem (emulated)."),
    403: ("permission_error", "Your API key does not have permission (emulated)."),
    404: ("not_found_error", "Not found (emulated)."),
    413: ("request_too_large", "Request exceeds the maximum allowed size (emulated)."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit (emulated)."),
    500: ("api_error", "Internal server error (emulated)."),
    504: ("timeout_error", "Request timed out (emulated)."),
    529: ("overloaded_error", "Overloaded (emulated)."),
}


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An HTTP error: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def retry_headers(status: int, retry_after_ms: int) -> dict[str, str]:
    """``retry-after``/``retry-after-ms`` for statuses a client should retry after a pause."""
    if status not in _RETRYABLE_WITH_DELAY:
        return {}
    seconds = max(1, math.ceil(retry_after_ms / 1000))
    return {"retry-after": str(seconds), "retry-after-ms": str(retry_after_ms)}


def openai_error(
    status: int,
    message: str | None = None,
    *,
    error_type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    retry_after_ms: int = 0,
) -> ErrorReply:
    """``{"error": {"message", "type", "param", "code"}}`` as OpenAI sends it."""
    default_type, default_code, default_message = _OPENAI_KINDS.get(
        status,
        ("invalid_request_error" if status < 500 else "server_error", None, f"HTTP {status} (emulated)."),
    )
    if message is None:  # a stock error: its stock message and code
        message, code = default_message, code or default_code
    body = {"error": {"message": message, "type": error_type or default_type, "param": param, "code": code}}
    headers = retry_headers(status, retry_after_ms)
    if status == 429:
        headers |= {
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{retry_after_ms}ms",
        }
    return ErrorReply(status, body, headers)


def anthropic_error(
    status: int,
    message: str | None = None,
    *,
    error_type: str | None = None,
    request_id: str = "",
    retry_after_ms: int = 0,
) -> ErrorReply:
    """``{"type": "error", "error": {"type", "message"}, "request_id"}`` with a request-id header."""
    default_type, default_message = _ANTHROPIC_KINDS.get(
        status, ("invalid_request_error" if status < 500 else "api_error", f"HTTP {status} (emulated).")
    )
    body = {
        "type": "error",
        "error": {"type": error_type or default_type, "message": message or default_message},
        "request_id": request_id or None,
    }
    headers = retry_headers(status, retry_after_ms)
    if request_id:
        headers["request-id"] = request_id
    if status == 429:
        headers["anthropic-ratelimit-requests-remaining"] = "0"
    return ErrorReply(status, body, headers)


def random_fault(config: EmulatorConfig, key: bytes, attempt: int, *, anthropic: bool) -> int | None:
    """The status of a seeded random fault for this body and attempt, or None (most of the time)."""
    if config.error_rate <= 0 or uniform(config.seed, key, attempt, b"fault") >= config.error_rate:
        return None
    choices = _ANTHROPIC_FAULTS if anthropic else _OPENAI_FAULTS
    return choices[int(uniform(config.seed, key, attempt, b"fault-kind") * len(choices))]


def jitter_s(config: EmulatorConfig, key: bytes, attempt: int) -> float:
    """The configured latency plus seeded uniform jitter, in seconds."""
    delay_ms = config.latency_ms
    if config.jitter_ms:
        delay_ms += config.jitter_ms * uniform(config.seed, key, attempt, b"jitter")
    return delay_ms / 1000
