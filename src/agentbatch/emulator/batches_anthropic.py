"""Anthropic Message Batches: in_progress → ended, or in_progress → canceling → ended."""

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from agentbatch.emulator.batch_timeline import Timeline
from agentbatch.emulator.ids import sequential_id
from agentbatch.emulator.protocol import InvalidRequest
from agentbatch.emulator.responder import LineResult, Responder

_DAY_S = 24 * 3600
_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_MAX_REQUESTS = 100_000


@dataclass(frozen=True, slots=True)
class BatchRequest:
    custom_id: str
    params: dict[str, Any]


@dataclass(slots=True)
class AnthropicBatch:
    id: str
    timeline: Timeline
    requests: list[BatchRequest]
    processing_status: str = "in_progress"
    results: list[LineResult] = field(default_factory=list)
    cancel_initiated_at: float | None = None
    ended_at: float | None = None

    def request_counts(self) -> dict[str, int]:
        """Every request counts as processing until the whole batch has ended."""
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if self.processing_status != "ended":
            counts["processing"] = len(self.requests)
            return counts
        for result in self.results:
            counts[result.kind] += 1
        counts["canceled"] = len(self.requests) - len(self.results)
        return counts

    def to_json(self, origin: str) -> dict[str, Any]:
        """The Anthropic ``message_batch`` object; ``origin`` is the base of ``results_url``."""
        ended = self.processing_status == "ended"
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.processing_status,
            "request_counts": self.request_counts(),
            "ended_at": _rfc3339(self.ended_at),
            "created_at": _rfc3339(self.timeline.created_at),
            "expires_at": _rfc3339(self.timeline.created_at + _DAY_S),
            "archived_at": None,
            "cancel_initiated_at": _rfc3339(self.cancel_initiated_at),
            "results_url": f"{origin}/v1/messages/batches/{self.id}/results" if ended else None,
        }

    def results_jsonl(self) -> bytes:
        """One ``{"custom_id", "result"}`` line per request, in request order."""
        lines = []
        for index, request in enumerate(self.requests):
            result = self.results[index] if index < len(self.results) else None
            lines.append(
                orjson.dumps({"custom_id": request.custom_id, "result": _result_json(result)}) + b"\n"
            )
        return b"".join(lines)


class QueueFull(Exception):
    """A batch create over the emulated queue limit: answered 429 ``rate_limit_error``."""


class AnthropicBatchStore:
    def __init__(self, responder: Responder, delay_s: float, *, queue_limit: int | None = None) -> None:
        self._responder = responder
        self._delay_s = delay_s
        self._queue_limit = queue_limit
        self.refused = 0
        """Creates refused because the queue limit was reached."""
        self._batches: dict[str, AnthropicBatch] = {}
        self._numbers = itertools.count(1)

    def create(self, body: object) -> AnthropicBatch:
        """A new batch from a ``{"requests": [...]}`` body; raises InvalidRequest."""
        requests = parse_requests(body)
        if self._queue_limit is not None:
            queued = sum(len(b.requests) for b in self.newest_first() if b.processing_status != "ended")
            if queued + len(requests) > self._queue_limit:
                self.refused += 1
                raise QueueFull(
                    f"Number of batch requests in the processing queue would exceed the limit of "
                    f"{self._queue_limit} (emulated)."
                )
        batch = AnthropicBatch(
            id=sequential_id("msgbatch_01", "anthropic-batch", next(self._numbers), 22),
            timeline=Timeline(time.time(), self._delay_s, validates=False),
            requests=requests,
        )
        self._batches[batch.id] = batch
        return batch

    def get(self, batch_id: str) -> AnthropicBatch | None:
        batch = self._batches.get(batch_id)
        if batch is not None:
            self.advance(batch, time.time())
        return batch

    def newest_first(self) -> list[AnthropicBatch]:
        now = time.time()
        batches = list(reversed(self._batches.values()))
        for batch in batches:
            self.advance(batch, now)
        return batches

    def cancel(self, batch: AnthropicBatch) -> bool:
        """Start canceling ``batch``; False when it has already ended."""
        now = time.time()
        self.advance(batch, now)
        if batch.processing_status == "ended":
            return False
        if batch.cancel_initiated_at is None:
            batch.processing_status = "canceling"
            batch.cancel_initiated_at = now
        return True

    def delete(self, batch: AnthropicBatch) -> bool:
        """Delete an ended batch; False when it is still processing."""
        if batch.processing_status != "ended":
            return False
        del self._batches[batch.id]
        return True

    def clear(self) -> None:
        self._batches.clear()

    def advance(self, batch: AnthropicBatch, now: float) -> None:
        timeline = batch.timeline
        if batch.processing_status == "in_progress":
            self._process(batch, timeline.processed(len(batch.requests), now))
            if now >= timeline.finalizing_at:
                batch.processing_status = "ended"
                batch.ended_at = timeline.finalizing_at
        if batch.processing_status == "canceling" and batch.cancel_initiated_at is not None:
            settles_at = timeline.cancel_settles_at(batch.cancel_initiated_at)
            if now >= settles_at:
                batch.processing_status = "ended"
                batch.ended_at = settles_at

    def _process(self, batch: AnthropicBatch, count: int) -> None:
        for request in batch.requests[len(batch.results) : count]:
            batch.results.append(self._responder.evaluate_line(request.params, request.custom_id))


def parse_requests(body: object) -> list[BatchRequest]:
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise InvalidRequest("requests: at least one request is required")
    if len(requests) > _MAX_REQUESTS:
        raise InvalidRequest(f"requests: at most {_MAX_REQUESTS} requests are allowed")
    parsed: list[BatchRequest] = []
    seen: set[str] = set()
    for index, request in enumerate(requests):
        custom_id = request.get("custom_id") if isinstance(request, dict) else None
        params = request.get("params") if isinstance(request, dict) else None
        if not isinstance(custom_id, str) or not _CUSTOM_ID.fullmatch(custom_id):
            raise InvalidRequest(f"requests.{index}.custom_id: must match ^[a-zA-Z0-9_-]{{1,64}}$")
        if custom_id in seen:
            raise InvalidRequest(f"requests.{index}.custom_id: duplicate custom_id {custom_id!r}")
        if not isinstance(params, dict):
            raise InvalidRequest(f"requests.{index}.params: Field required")
        seen.add(custom_id)
        parsed.append(BatchRequest(custom_id, params))
    return parsed


def _result_json(result: LineResult | None) -> dict[str, Any]:
    if result is None:
        return {"type": "canceled"}
    if result.kind == "succeeded":
        return {"type": "succeeded", "message": result.body}
    if result.kind == "errored":
        return {"type": "errored", "error": result.body}
    return {"type": "expired"}


def _rfc3339(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
