"""OpenAI-compatible endpoints (OpenAI, vLLM, Ollama, LM Studio, the emulator) through ``openai``.

The call goes through the SDK's own client (auth, headers, base URL, error types) on its aiohttp
transport, by the SDK's documented low-level ``client.post(path, cast_to=bytes, content=...)``: the body
is encoded once with orjson and the reply read back raw, so the SDK neither walks every history message
through its type transforms nor builds a typed model we would only take apart again. Measured in
``benchmarks/provider_call_cpu.py``; see docs/decisions/0003-provider-calls.md.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai

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
        with sdk_errors():
            return await self.sdk.post("/chat/completions", cast_to=bytes, content=body, options=_JSON)

    async def close(self) -> None:
        await self.sdk.close()


class OpenAIChat(WireChat):
    """The OpenAI protocol over the SDK in this process."""

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        super().__init__(
            WIRE_FORMATS[WireProtocol.OPENAI], OpenAITransport(base_url=base_url, api_key=api_key)
        )


@contextmanager
def sdk_errors() -> Iterator[None]:
    """Map the SDK's exceptions into ``ProviderError``s, as httpx maps its transport's."""
    try:
        yield
    except openai.RateLimitError as error:
        raise RateLimited(
            str(error), status=429, retry_after=retry_after_seconds(error.response.headers)
        ) from error
    except openai.APIStatusError as error:
        status = error.status_code
        retry_after = retry_after_seconds(error.response.headers)
        if status >= 500 or status in (408, 409):
            raise ProviderUnavailable(str(error), status=status, retry_after=retry_after) from error
        raise ProviderRejected(str(error), status=status) from error
    except (openai.APIConnectionError, openai.APITimeoutError) as error:
        raise ProviderUnavailable(f"{type(error).__name__}: {error}") from error
    except openai.OpenAIError as error:
        raise ProviderError(str(error)) from error
