"""The neutral face of the providers' batch APIs (OpenAI Batch API, Anthropic Message Batches).

The engine's lane speaks only these types: a request line is a ``custom_id`` and the very wire body a
direct call would send (``openai_wire``/``anthropic_wire``); a result line comes back as the raw reply
body, parsed by the same ``parse_response`` as a direct reply.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import BUILT_IN, ProviderCatalog, WireProtocol
from agentbatch.providers.wire_chat import WIRE_FORMATS

OPENAI_LIMITS = (50_000, 200 * 1024 * 1024)
"""Requests and input-file bytes one OpenAI batch may hold."""
ANTHROPIC_LIMITS = (100_000, 256 * 1024 * 1024)
"""Requests and request bytes one Anthropic message batch may hold."""


class LineKind(StrEnum):
    SUCCEEDED = "succeeded"
    ERRORED = "errored"
    EXPIRED = "expired"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class RequestLine:
    custom_id: str
    body: bytes
    """The request's wire body, JSON-encoded (exactly what a direct call would post)."""


@dataclass(frozen=True, slots=True)
class LineResult:
    custom_id: str
    kind: LineKind
    body: dict[str, Any] | None = None
    """The reply body, for a succeeded line."""
    error: str | None = None
    retryable: bool = False
    """An errored line the provider may answer next time (rate limit, overload, 5xx)."""


@dataclass(frozen=True, slots=True)
class BatchStatus:
    ended: bool
    failed: str | None = None
    """Why the whole batch failed (e.g. its input was refused)."""
    over_quota: bool = False
    """It failed because the provider's queue quota was full (OpenAI ``token_limit_exceeded``): its
    requests wait and go again, however often."""


class BatchApi(Protocol):
    """One provider's batch API, through its official SDK. Raises ``ProviderError`` only."""

    limits: tuple[int, int]

    async def submit(self, submission_id: str, lines: Sequence[RequestLine]) -> str:
        """Create a provider batch carrying ``submission_id``; its provider id."""
        ...

    async def find(self, submission_id: str, request_count: int, since: datetime) -> str | None:
        """The provider batch an interrupted ``submit`` created, if it did."""
        ...

    async def status(self, provider_batch_id: str) -> BatchStatus: ...

    def results(self, provider_batch_id: str) -> AsyncIterator[LineResult]: ...

    async def cancel(self, provider_batch_id: str) -> None: ...

    async def close(self) -> None: ...


def lane_protocol(catalog: ProviderCatalog, provider: str) -> WireProtocol | None:
    """The batch API a provider offers: OpenAI's and Anthropic's own endpoints; other OpenAI-compatible
    servers (vLLM, Ollama, …) have none."""
    endpoint = catalog.endpoint(provider)
    if endpoint is None or provider not in BUILT_IN:
        return None
    return endpoint.protocol


def lane_refusal(catalog: ProviderCatalog, provider: str) -> str | None:
    """Why steps of this provider cannot go through a batch API (None: they can)."""
    endpoint = catalog.endpoint(provider)
    if endpoint is None:
        return f"provider {provider!r} is not configured"
    if lane_protocol(catalog, provider) is None:
        return f"provider {provider!r} has no batch API (only openai and anthropic have one)"
    return None


def parse_reply(protocol: WireProtocol, body: Any) -> ModelResponse:
    """A provider batch's reply body, parsed exactly as a direct reply is."""
    return WIRE_FORMATS[protocol].parse_response(body)


def request_body(protocol: WireProtocol, request: ModelRequest) -> dict[str, Any]:
    """The wire body of a ``ModelRequest``, exactly as a direct call builds it."""
    return WIRE_FORMATS[protocol].request_body(request)
