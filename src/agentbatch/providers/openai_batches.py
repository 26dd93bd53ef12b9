"""OpenAI's Batch API through the ``openai`` SDK: the input file is written line by line to a temporary
file and uploaded with ``client.files.create``; results are streamed from the output and error files."""

import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

from agentbatch.providers.errors import mapped_errors
from agentbatch.providers.provider_batches import (
    OPENAI_LIMITS,
    BatchStatus,
    LineKind,
    LineResult,
    RequestLine,
)
from agentbatch.providers.sdk_clients import openai_client, openai_errors

CHAT_ENDPOINT: Final = "/v1/chat/completions"
SUBMISSION_KEY = "agentbatch_submission"
_ENDED = frozenset({"completed", "expired", "cancelled", "failed"})
_QUOTA_CODE = "token_limit_exceeded"
"""A batch failed because the organisation's enqueued-token limit for the model was reached."""
_LINE_PREFIX = b'{"method":"POST","url":"' + CHAT_ENDPOINT.encode() + b'","custom_id":'


class OpenAIBatches:
    limits = OPENAI_LIMITS

    def __init__(self, *, base_url: str | None, api_key: str) -> None:
        self.sdk = openai_client(base_url=base_url, api_key=api_key, direct=False)

    async def submit(self, submission_id: str, lines: Sequence[RequestLine]) -> str:
        with tempfile.TemporaryDirectory(prefix="agentbatch-lane-") as folder:
            path = Path(folder) / f"{submission_id}.jsonl"
            with path.open("wb") as file:  # one line at a time: never the whole file in memory
                for line in lines:
                    file.write(_LINE_PREFIX + orjson.dumps(line.custom_id) + b',"body":' + line.body + b"}\n")
            with mapped_errors(openai_errors()):
                uploaded = await self.sdk.files.create(file=path, purpose="batch")
                batch = await self.sdk.batches.create(
                    input_file_id=uploaded.id,
                    endpoint=CHAT_ENDPOINT,
                    completion_window="24h",
                    metadata={SUBMISSION_KEY: submission_id},
                )
        return batch.id

    async def find(self, submission_id: str, request_count: int, since: datetime) -> str | None:
        with mapped_errors(openai_errors()):
            async for batch in self.sdk.batches.list(limit=100):
                if (batch.metadata or {}).get(SUBMISSION_KEY) == submission_id:
                    return batch.id
                if batch.created_at < since.timestamp() - 60:
                    return None  # newest first: older batches cannot be ours
        return None

    async def status(self, provider_batch_id: str) -> BatchStatus:
        with mapped_errors(openai_errors()):
            batch = await self.sdk.batches.retrieve(provider_batch_id)
        if batch.status == "failed":
            errors = (batch.errors.data if batch.errors else None) or []
            problems = [error.message or "" for error in errors]
            return BatchStatus(
                ended=True,
                failed="; ".join(problems) or "the provider batch failed",
                over_quota=any(error.code == _QUOTA_CODE for error in errors),
            )
        return BatchStatus(ended=batch.status in _ENDED)

    async def results(self, provider_batch_id: str) -> AsyncIterator[LineResult]:
        with mapped_errors(openai_errors()):
            batch = await self.sdk.batches.retrieve(provider_batch_id)
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id is None:
                continue
            with mapped_errors(openai_errors()):
                async with self.sdk.files.with_streaming_response.content(file_id) as response:
                    async for raw in response.iter_lines():
                        if raw.strip():
                            yield _line_result(orjson.loads(raw))

    async def cancel(self, provider_batch_id: str) -> None:
        with mapped_errors(openai_errors()):
            await self.sdk.batches.cancel(provider_batch_id)

    async def close(self) -> None:
        await self.sdk.close()


def _line_result(record: dict[str, Any]) -> LineResult:
    custom_id = str(record.get("custom_id"))
    response = record.get("response")
    error = record.get("error")
    if response is None:
        code = (error or {}).get("code")
        message = str((error or {}).get("message") or code or "no response")
        if code == "batch_expired":
            return LineResult(custom_id, LineKind.EXPIRED, error=message)
        if code == "batch_cancelled":
            return LineResult(custom_id, LineKind.CANCELED, error=message)
        return LineResult(custom_id, LineKind.ERRORED, error=message, retryable=True)
    status = int(response.get("status_code") or 0)
    body = response.get("body")
    if status == 200 and isinstance(body, dict):
        return LineResult(custom_id, LineKind.SUCCEEDED, body=body)
    detail = (body or {}).get("error") if isinstance(body, dict) else None
    message = f"Error code: {status} - {detail.get('message') if isinstance(detail, dict) else body}"
    transient = status >= 500 or status in (408, 409, 429)
    return LineResult(custom_id, LineKind.ERRORED, error=message, retryable=transient)
