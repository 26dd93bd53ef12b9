"""OpenAI-compatible endpoints (OpenAI, vLLM, Ollama, LM Studio, the emulator) through ``openai``.

The call goes through the SDK's own client (auth, headers, base URL, error types) on its aiohttp
transport, by the SDK's documented low-level ``client.post(path, cast_to=bytes, body=...)``: the body is
encoded once with orjson and the reply read back raw, so the SDK neither walks every history message
through its type transforms nor builds a typed model we would only take apart again. Measured in
``benchmarks/provider_call_cpu.py`` and docs/decisions/0003-provider-calls.md.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
import orjson

from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.errors import (
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
    parse_json,
    retry_after_seconds,
)
from agentbatch.providers.openai_wire import parse_response, request_body

DEFAULT_TIMEOUT_S = 600.0
_JSON: Any = {"headers": {"Content-Type": "application/json"}}


class OpenAIChat:
    def __init__(self, *, base_url: str | None = None, api_key: str | None = None) -> None:
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=0,  # the engine retries, with a backoff shared by every turn
            timeout=DEFAULT_TIMEOUT_S,
            http_client=openai.DefaultAioHttpClient(),
        )

    @property
    def sdk(self) -> openai.AsyncOpenAI:
        return self._client

    async def complete(self, request: ModelRequest) -> ModelResponse:
        with sdk_errors():
            content = await self._client.post(
                "/chat/completions", cast_to=bytes, content=orjson.dumps(request_body(request)), options=_JSON
            )
        return parse_response(parse_json(content))

    async def close(self) -> None:
        await self._client.close()


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
