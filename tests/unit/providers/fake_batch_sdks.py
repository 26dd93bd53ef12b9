"""Stand-ins for the parts of the ``openai`` and ``anthropic`` SDK clients the batch adapters call.

They hand back the SDKs' own pydantic types (built with ``model_validate`` from the JSON the APIs
document), record what the adapter sent, and raise a given SDK exception when told to.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anthropic.types.messages import MessageBatch, MessageBatchIndividualResponse
from openai.types import Batch, FileObject

CREATED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z


def openai_batch(batch_id: str, status: str = "in_progress", **fields: Any) -> Batch:
    return Batch.model_validate(
        {
            "id": batch_id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "input_file_id": "file-in",
            "completion_window": "24h",
            "created_at": CREATED_AT,
            "status": status,
            **fields,
        }
    )


def anthropic_batch(
    batch_id: str, created_at: str, status: str = "in_progress", **counts: int
) -> MessageBatch:
    return MessageBatch.model_validate(
        {
            "id": batch_id,
            "type": "message_batch",
            "processing_status": status,
            "created_at": created_at,
            "expires_at": created_at,
            "request_counts": {
                "processing": 0,
                "succeeded": 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
                **counts,
            },
        }
    )


async def listed(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


@dataclass
class FakeStreamedFile:
    lines: list[bytes]

    async def iter_lines(self) -> AsyncIterator[str]:
        for line in self.lines:
            yield line.decode()


@dataclass
class FakeOpenAI:
    """``files`` and ``batches`` of ``openai.AsyncOpenAI``."""

    batches_listed: list[Batch] = field(default_factory=list)
    retrieved: Batch | None = None
    file_lines: dict[str, list[bytes]] = field(default_factory=dict)
    failure: Exception | None = None
    uploaded: list[bytes] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self) -> None:
        self.files = self
        self.batches = _OpenAIBatches(self)
        self.with_streaming_response = self

    def _maybe_fail(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def create(self, *, file: Path, purpose: str) -> FileObject:  # files.create
        self._maybe_fail()
        assert purpose == "batch"
        content = await asyncio.to_thread(file.read_bytes)
        self.uploaded.append(content)
        return FileObject.model_validate(
            {
                "id": "file-in",
                "object": "file",
                "bytes": len(content),
                "created_at": CREATED_AT,
                "filename": file.name,
                "purpose": "batch",
                "status": "processed",
            }
        )

    @asynccontextmanager
    async def content(self, file_id: str) -> AsyncIterator[FakeStreamedFile]:  # with_streaming_response
        self._maybe_fail()
        yield FakeStreamedFile(self.file_lines[file_id])

    async def close(self) -> None:
        self.closed = True


@dataclass
class _OpenAIBatches:
    sdk: FakeOpenAI

    async def create(self, **params: Any) -> Batch:
        self.sdk._maybe_fail()
        self.sdk.created.append(params)
        return openai_batch("batch_new", "validating", metadata=params["metadata"])

    def list(self, *, limit: int) -> AsyncIterator[Batch]:
        self.sdk._maybe_fail()
        return listed(self.sdk.batches_listed)

    async def retrieve(self, batch_id: str) -> Batch:
        self.sdk._maybe_fail()
        assert self.sdk.retrieved is not None and self.sdk.retrieved.id == batch_id
        return self.sdk.retrieved

    async def cancel(self, batch_id: str) -> Batch:
        self.sdk._maybe_fail()
        self.sdk.cancelled.append(batch_id)
        return openai_batch(batch_id, "cancelling")


@dataclass
class FakeAnthropic:
    """``messages.batches`` of ``anthropic.AsyncAnthropic``."""

    batches_listed: list[MessageBatch] = field(default_factory=list)
    retrieved: MessageBatch | None = None
    results_lines: list[dict[str, Any]] = field(default_factory=list)
    failure: Exception | None = None
    created: list[Any] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self) -> None:
        self.messages = self
        self.batches = self

    def _maybe_fail(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def create(self, *, requests: list[dict[str, Any]]) -> MessageBatch:
        self._maybe_fail()
        self.created.append(requests)
        return anthropic_batch("msgbatch_new", "2026-01-01T00:00:00Z", processing=len(requests))

    def list(self, *, limit: int) -> AsyncIterator[MessageBatch]:
        self._maybe_fail()
        return listed(self.batches_listed)

    async def retrieve(self, batch_id: str) -> MessageBatch:
        self._maybe_fail()
        assert self.retrieved is not None and self.retrieved.id == batch_id
        return self.retrieved

    async def results(self, batch_id: str) -> AsyncIterator[MessageBatchIndividualResponse]:
        self._maybe_fail()
        return listed([MessageBatchIndividualResponse.model_validate(line) for line in self.results_lines])

    async def cancel(self, batch_id: str) -> MessageBatch:
        self._maybe_fail()
        self.cancelled.append(batch_id)
        return anthropic_batch(batch_id, "2026-01-01T00:00:00Z", "canceling")

    async def close(self) -> None:
        self.closed = True
