"""Anthropic's Messages API through ``anthropic``: the SDK's client on its aiohttp transport, called by its
documented low-level ``client.post(path, cast_to=bytes, content=...)`` with an orjson-encoded body and the
reply read back raw (see ``openai_chat`` for why)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anthropic

from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import (
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
    retry_after_seconds,
)
from agentbatch.providers.wire_chat import WIRE_FORMATS, WireChat

DEFAULT_TIMEOUT_S = 600.0
_JSON: Any = {"headers": {"Content-Type": "application/json"}}


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
        with sdk_errors():
            return await self.sdk.post("/v1/messages", cast_to=bytes, content=body, options=_JSON)

    async def close(self) -> None:
        await self.sdk.close()


class AnthropicChat(WireChat):
    """The Anthropic protocol over the SDK in this process."""

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        transport = AnthropicTransport(base_url=base_url, api_key=api_key)
        super().__init__(WIRE_FORMATS[WireProtocol.ANTHROPIC], transport)


@contextmanager
def sdk_errors() -> Iterator[None]:
    try:
        yield
    except anthropic.RateLimitError as error:
        raise RateLimited(
            str(error), status=429, retry_after=retry_after_seconds(error.response.headers)
        ) from error
    except anthropic.APIStatusError as error:
        status = error.status_code
        retry_after = retry_after_seconds(error.response.headers)
        if status >= 500 or status in (408, 409):
            raise ProviderUnavailable(str(error), status=status, retry_after=retry_after) from error
        raise ProviderRejected(str(error), status=status) from error
    except (anthropic.APIConnectionError, anthropic.APITimeoutError) as error:
        raise ProviderUnavailable(f"{type(error).__name__}: {error}") from error
    except anthropic.AnthropicError as error:
        raise ProviderError(str(error)) from error
