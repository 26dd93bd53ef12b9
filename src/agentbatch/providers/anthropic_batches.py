"""Anthropic's Message Batches through the ``anthropic`` SDK (``client.messages.batches``)."""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import orjson

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


class AnthropicBatches:
    limits = ANTHROPIC_LIMITS

    def __init__(self, *, base_url: str | None, api_key: str) -> None:
        self.sdk = anthropic_client(base_url=base_url, api_key=api_key, direct=False)

    async def submit(self, submission_id: str, lines: Sequence[RequestLine]) -> str:
        requests: Any = [{"custom_id": line.custom_id, "params": orjson.loads(line.body)} for line in lines]
        with mapped_errors(anthropic_errors()):
            batch = await self.sdk.messages.batches.create(requests=requests)
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
