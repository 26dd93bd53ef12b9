"""Provider failures, mapped from each SDK's exceptions at the border; the engine reads only these.

ProviderError
├── RateLimited              429: slow down (``retry_after`` seconds when the provider said)
├── ProviderUnavailable      5xx, 529: transient, retry with backoff
│   ├── ProviderUnreachable  no connection: refused, reset, dropped, name not resolved
│   └── ProviderTimedOut     no answer in time
├── ProviderRejected         other 4xx: the request itself is wrong or not allowed; do not retry
└── InvalidResponse          the provider answered, but not with something a step can use

``pauses_provider``: the failure says the provider as a whole is down or overloaded (429, unreachable,
timed out), not that one request was unlucky; the engine then holds every call to it for a while.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson


class ProviderError(Exception):
    retryable = False
    pauses_provider = False

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RateLimited(ProviderError):
    retryable = True
    pauses_provider = True


class ProviderUnavailable(ProviderError):
    retryable = True


class ProviderUnreachable(ProviderUnavailable):
    pauses_provider = True


class ProviderTimedOut(ProviderUnavailable):
    pauses_provider = True


class ProviderRejected(ProviderError):
    pass


class InvalidResponse(ProviderError):
    pass


def retry_after_seconds(headers: object) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds) from a response's headers, if present and sane."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = get(name)
        if raw is None:
            continue
        try:
            value = float(raw) * scale
        except (TypeError, ValueError):
            continue
        if 0 <= value <= 600:
            return value
    return None


def parse_json(body: bytes) -> Any:
    """A 2xx body as JSON; ``InvalidResponse`` if it is not (a proxy's HTML page, a wrong base URL)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidResponse(
            f"the provider answered with something that is not JSON: {body[:200]!r}"
        ) from error


ERROR_BODY_EXCERPT = 1_000
"""Characters of an error response's body kept in the error's message."""


def classify_status(status: int, message: str, retry_after: float | None) -> ProviderError:
    """An HTTP error status as a ``ProviderError``: 429 rate limited; 5xx (529 included), 408 and 409
    transient; any other 4xx a rejection of the request itself."""
    if status == 429:
        return RateLimited(message, status=429, retry_after=retry_after)
    if status >= 500 or status in (408, 409):
        return ProviderUnavailable(message, status=status, retry_after=retry_after)
    return ProviderRejected(message, status=status)


def status_error(status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
    """A non-2xx response read off the wire (``HttpTransport``), worded as the SDKs word it."""
    text = body[:ERROR_BODY_EXCERPT].decode("utf-8", errors="replace")
    return classify_status(status, f"Error code: {status} - {text}", retry_after_seconds(headers))


@dataclass(frozen=True, slots=True)
class SdkExceptions:
    """The exception classes of one provider SDK (both Stainless SDKs share this shape)."""

    status: type[Exception]
    transport: tuple[type[Exception], ...]
    base: type[Exception]


@contextmanager
def mapped_errors(sdk: SdkExceptions) -> Iterator[None]:
    """Map an SDK's exceptions into ``ProviderError``s at the border, as httpx maps its transport's."""
    try:
        yield
    except sdk.status as error:  # the SDKs' RateLimitError is one of these, with status 429
        status = int(getattr(error, "status_code", 500))
        retry_after = retry_after_seconds(getattr(getattr(error, "response", None), "headers", None))
        raise classify_status(status, str(error), retry_after) from error
    except sdk.transport as error:
        raise transport_failure(error) from error
    except sdk.base as error:
        raise ProviderError(str(error)) from error


def transport_failure(error: BaseException) -> ProviderUnavailable:
    """Name a failure below HTTP by its root cause. The SDKs' aiohttp bridge reports a refused
    connection as a connect *timeout* ("Request timed out."), so the chain of causes is read instead."""
    causes = list(_causes(error))
    root = causes[-1]
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return ProviderUnreachable(f"connection refused by the provider ({cause})")
    for cause in causes:
        if isinstance(cause, ConnectionError):
            return ProviderUnreachable(f"connection to the provider failed: {type(cause).__name__}: {cause}")
    if any(isinstance(cause, TimeoutError) or "Timeout" in type(cause).__name__ for cause in causes):
        return ProviderTimedOut(f"the provider did not answer in time: {type(root).__name__}: {root}")
    return ProviderUnreachable(f"connection to the provider failed: {type(root).__name__}: {root}")


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
