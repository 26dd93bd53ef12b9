"""OpenAI-compatible endpoints (OpenAI, vLLM, Ollama, LM Studio, the emulator) through ``openai``.

The call goes through the SDK's own client (auth, headers, base URL, error types) on its aiohttp
transport, by the SDK's documented low-level ``client.post(path, cast_to=bytes, content=...)``: the body
is encoded once with orjson and the reply read back raw, so the SDK neither walks every history message
through its type transforms nor builds a typed model we would only take apart again. Measured in
``benchmarks/provider_call_cpu.py``; see docs/decisions/0003-provider-calls.md.
"""

from typing import Any

import openai

from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import SdkExceptions, mapped_errors
from agentbatch.providers.wire_chat import WIRE_FORMATS, WireChat

DEFAULT_TIMEOUT_S = 600.0
_JSON: Any = {"headers": {"Content-Type": "application/json"}}
_SDK_ERRORS = SdkExceptions(
    rate_limited=openai.RateLimitError,
    status=openai.APIStatusError,
    transport=(openai.APIConnectionError, openai.APITimeoutError),
    base=openai.OpenAIError,
)


class OpenAITransport:
    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        self.sdk = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=0,  # the engine retries, with a backoff shared by every turn
            timeout=DEFAULT_TIMEOUT_S,
            http_client=openai.DefaultAioHttpClient(),
        )

    async def post_json(self, body: bytes) -> bytes:
        with mapped_errors(_SDK_ERRORS):
            return await self.sdk.post("/chat/completions", cast_to=bytes, content=body, options=_JSON)

    async def close(self) -> None:
        await self.sdk.close()


class OpenAIChat(WireChat):
    """The OpenAI protocol over the SDK in this process."""

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        super().__init__(
            WIRE_FORMATS[WireProtocol.OPENAI], OpenAITransport(base_url=base_url, api_key=api_key)
        )
