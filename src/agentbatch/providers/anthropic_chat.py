"""Anthropic's Messages API through ``anthropic``: the SDK's client on its aiohttp transport, called by its
documented low-level ``client.post(path, cast_to=bytes, content=...)`` with an orjson-encoded body and the
reply read back raw (see ``openai_chat`` for why)."""

from typing import Any

import anthropic

from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import SdkExceptions, mapped_errors
from agentbatch.providers.wire_chat import WIRE_FORMATS, WireChat

DEFAULT_TIMEOUT_S = 600.0
_JSON: Any = {"headers": {"Content-Type": "application/json"}}
_SDK_ERRORS = SdkExceptions(
    rate_limited=anthropic.RateLimitError,
    status=anthropic.APIStatusError,
    transport=(anthropic.APIConnectionError, anthropic.APITimeoutError),
    base=anthropic.AnthropicError,
)


class AnthropicTransport:
    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        self.sdk = anthropic.AsyncAnthropic(
            base_url=base_url,
            api_key=api_key,
            max_retries=0,
            timeout=DEFAULT_TIMEOUT_S,
            http_client=anthropic.DefaultAioHttpClient(),
        )

    async def post_json(self, body: bytes) -> bytes:
        with mapped_errors(_SDK_ERRORS):
            return await self.sdk.post("/v1/messages", cast_to=bytes, content=body, options=_JSON)

    async def close(self) -> None:
        await self.sdk.close()


class AnthropicChat(WireChat):
    """The Anthropic protocol over the SDK in this process."""

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        transport = AnthropicTransport(base_url=base_url, api_key=api_key)
        super().__init__(WIRE_FORMATS[WireProtocol.ANTHROPIC], transport)
