"""Anthropic's Message Batches through the ``anthropic`` SDK (``client.messages.batches``)."""

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson
from anthropic.types.messages import MessageBatch

from agentbatch.providers.errors import mapped_errors
from agentbatch.providers.provider_batches import (
    ANTHROPIC_LIMITS,
    BatchStatus,
    LineKind,
    LineResult,
    RequestLine,
)
from agentbatch.providers.sdk_clients import anthropic_client, anthropic_errors

_TRANSIENT = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})


class StreamedRequests:
    """``{"requests": [{"custom_id": …, "params": <line body>}, …]}`` as bytes, one request at a time
    (iterable again for the SDK's retries), of known length."""

    def __init__(self, lines: Sequence[RequestLine]) -> None:
        self._lines = lines

    def _parts(self) -> Iterator[bytes]:
        yield b'{"requests":['
        for n, line in enumerate(self._lines):
            yield b'%s{"custom_id":%s,"params":' % (b"," if n else b"", orjson.dumps(line.custom_id))
            yield line.body
            yield b"}"
        yield b"]}"

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts())

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = bytearray()
        for part in self._parts():
            chunk += part
            if len(chunk) >= 1 << 16:
                yield bytes(chunk)
                chunk.clear()
        yield bytes(chunk)


class AnthropicBatches:
    limits = ANTHROPIC_LIMITS

    def __init__(self, *, base_url: str | None, api_key: str) -> None:
        self.sdk = anthropic_client(base_url=base_url, api_key=api_key, direct=False)

    async def submit(self, submission_id: str, lines: Sequence[RequestLine]) -> str:
        # The create body is streamed from the lines' bytes: ``messages.batches.create`` would hold
        # every request as parsed objects and the whole body as one string (GBs for 100,000 requests).
        body = StreamedRequests(lines)
        with mapped_errors(anthropic_errors()):
            batch = await self.sdk.post(
                "/v1/messages/batches",
                cast_to=MessageBatch,
                content=body,
                options={"headers": {"Content-Type": "application/json", "Content-Length": str(len(body))}},
            )
        return batch.id

    async def find(self, submission_id: str, request_count: int, since: datetime) -> str | None:
        """Anthropic batches carry no metadata: the one created since ``since`` with as many requests
        (the caller confirms by ``custom_id`` when its results come back)."""
        found: list[str] = []
        with mapped_errors(anthropic_errors()):
            async for batch in self.sdk.messages.batches.list(limit=100):
                if batch.created_at.timestamp() < since.timestamp() - 60:
                    break
                counts = batch.request_counts
                total = (
                    counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
                )
                if total == request_count:
                    found.append(batch.id)
        return found[-1] if found else None  # the oldest match: ours was created first

    async def status(self, provider_batch_id: str) -> BatchStatus:
        with mapped_errors(anthropic_errors()):
            batch = await self.sdk.messages.batches.retrieve(provider_batch_id)
        return BatchStatus(ended=batch.processing_status == "ended")

    async def results(self, provider_batch_id: str) -> AsyncIterator[LineResult]:
        with mapped_errors(anthropic_errors()):
            stream = await self.sdk.messages.batches.results(provider_batch_id)
            async for entry in stream:
                yield _line_result(entry)

    async def cancel(self, provider_batch_id: str) -> None:
        with mapped_errors(anthropic_errors()):
            await self.sdk.messages.batches.cancel(provider_batch_id)

    async def close(self) -> None:
        await self.sdk.close()


def _line_result(entry: Any) -> LineResult:
    custom_id = str(entry.custom_id)
    result = entry.result
    if result.type == "succeeded":
        return LineResult(custom_id, LineKind.SUCCEEDED, body=result.message.model_dump(mode="json"))
    if result.type == "errored":
        detail = result.error.error
        kind = str(getattr(detail, "type", "api_error"))
        message = f"{kind}: {getattr(detail, 'message', '')}"
        return LineResult(custom_id, LineKind.ERRORED, error=message, retryable=kind in _TRANSIENT)
    if result.type == "expired":
        return LineResult(custom_id, LineKind.EXPIRED, error="the request expired before it was processed")
    return LineResult(custom_id, LineKind.CANCELED, error="the provider batch was cancelled")
