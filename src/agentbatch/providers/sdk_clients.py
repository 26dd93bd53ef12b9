"""The official SDK clients of both vendors, configured in one place, and the one transport over them.

Every HTTP client setting lives here: timeouts, the SDKs' own retries, the HTTP library underneath, and
how each SDK's exceptions map into ``ProviderError``s. The vendor modules only map wire shapes
(``openai_wire``, ``anthropic_wire``) or drive a vendor's batch API (``openai_batches``,
``anthropic_batches``) on the clients built here.

A direct call goes through the SDK's own client (auth, headers, base URL, error types) on its aiohttp
transport, by the SDK's documented low-level ``client.post(path, cast_to=bytes, content=...)``: the body
is encoded once with orjson and the reply read back raw, so the SDK neither walks every history message
through its type transforms nor builds a typed model we would only take apart again. Measured in
``benchmarks/provider_call_cpu.py``; see docs/decisions/0003-provider-calls.md.

Each SDK is imported when first needed — its client built, or its exception table read — never by
importing this module: the engine process with provider processes never loads one, and a provider process
loads only the SDK it calls (the Anthropic one alone costs ~0.8 s of CPU; docs/decisions/0011-overhead.md).
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import SdkExceptions, mapped_errors

if TYPE_CHECKING:
    import anthropic
    import openai

TIMEOUT_S = 600.0
"""Per HTTP request, both vendors (the SDKs' own default); the engine bounds a whole call apart."""
DIRECT_SDK_RETRIES = 0
"""Direct calls: the engine's gateway retries, with a backoff shared by every turn."""
BATCH_SDK_RETRIES = 2
"""Batch API calls (submit, poll, results): the SDK retries a transient failure itself."""


@functools.cache
def openai_errors() -> SdkExceptions:
    """How the OpenAI SDK's exceptions map into ``ProviderError``s."""
    import openai

    return SdkExceptions(
        status=openai.APIStatusError,
        transport=(openai.APIConnectionError, openai.APITimeoutError),
        base=openai.OpenAIError,
    )


@functools.cache
def anthropic_errors() -> SdkExceptions:
    """How the Anthropic SDK's exceptions map into ``ProviderError``s."""
    import anthropic

    return SdkExceptions(
        status=anthropic.APIStatusError,
        transport=(anthropic.APIConnectionError, anthropic.APITimeoutError),
        base=anthropic.AnthropicError,
    )


_JSON: Any = {"headers": {"Content-Type": "application/json"}}


def openai_client(*, base_url: str | None, api_key: str | None, direct: bool) -> "openai.AsyncOpenAI":
    """A client for direct calls (aiohttp, no SDK retries) or for the batch API (the SDK's defaults)."""
    import openai

    if direct:
        return openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=DIRECT_SDK_RETRIES,
            timeout=TIMEOUT_S,
            http_client=openai.DefaultAioHttpClient(),
        )
    return openai.AsyncOpenAI(
        base_url=base_url, api_key=api_key, max_retries=BATCH_SDK_RETRIES, timeout=TIMEOUT_S
    )


def anthropic_client(
    *, base_url: str | None, api_key: str | None, direct: bool
) -> "anthropic.AsyncAnthropic":
    """Like ``openai_client``, for Anthropic."""
    import anthropic

    if direct:
        return anthropic.AsyncAnthropic(
            base_url=base_url,
            api_key=api_key,
            max_retries=DIRECT_SDK_RETRIES,
            timeout=TIMEOUT_S,
            http_client=anthropic.DefaultAioHttpClient(),
        )
    return anthropic.AsyncAnthropic(
        base_url=base_url, api_key=api_key, max_retries=BATCH_SDK_RETRIES, timeout=TIMEOUT_S
    )


@dataclass(frozen=True, slots=True)
class _Route:
    path: str
    errors: Callable[[], SdkExceptions]


_ROUTES = {
    WireProtocol.OPENAI: _Route("/chat/completions", openai_errors),
    WireProtocol.ANTHROPIC: _Route("/v1/messages", anthropic_errors),
}


class SdkTransport:
    """``Transport``: POST an encoded chat request through the vendor's SDK client, in this process."""

    def __init__(
        self, protocol: WireProtocol, *, base_url: str | None = None, api_key: str | None = None
    ) -> None:
        self._route = _ROUTES[protocol]
        self._errors = self._route.errors()
        self.sdk: openai.AsyncOpenAI | anthropic.AsyncAnthropic
        if protocol is WireProtocol.ANTHROPIC:
            self.sdk = anthropic_client(base_url=base_url, api_key=api_key, direct=True)
        else:
            self.sdk = openai_client(base_url=base_url, api_key=api_key, direct=True)

    async def post_json(self, body: bytes) -> bytes:
        with mapped_errors(self._errors):
            return await self.sdk.post(self._route.path, cast_to=bytes, content=body, options=_JSON)

    async def close(self) -> None:
        await self.sdk.close()
