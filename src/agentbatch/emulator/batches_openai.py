"""OpenAI Batch API: validating → in_progress → finalizing → completed | expired | failed,
and cancelling → cancelled."""

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from agentbatch.emulator.batch_timeline import Timeline
from agentbatch.emulator.files import FileStore
from agentbatch.emulator.ids import IdMaker, body_key, sequential_id
from agentbatch.emulator.responder import LineResult, Responder

CHAT_ENDPOINT = "/v1/chat/completions"
_DAY_S = 24 * 3600
_TERMINAL = frozenset({"completed", "expired", "failed", "cancelled"})
_EXPIRED_ERROR = {
    "code": "batch_expired",
    "message": "This request could not be executed before the completion window expired.",
}
_CANCELLED_ERROR = {
    "code": "batch_cancelled",
    "message": "This request was not executed: the batch was cancelled.",
}


@dataclass(frozen=True, slots=True)
class BatchLine:
    custom_id: str
    body: dict[str, Any]


@dataclass(slots=True)
class OpenAIBatch:
    id: str
    input_file_id: str
    metadata: dict[str, Any] | None
    timeline: Timeline
    lines: list[BatchLine]
    validation_errors: list[dict[str, Any]]
    status: str = "validating"
    results: list[LineResult] = field(default_factory=list)
    stamps: dict[str, float] = field(default_factory=dict)
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def model(self) -> str | None:
        model = self.lines[0].body.get("model") if self.lines else None
        return model if isinstance(model, str) else None

    def request_counts(self) -> dict[str, int]:
        if self.status == "failed":
            return {"total": 0, "completed": 0, "failed": 0}
        total = len(self.lines)
        completed = sum(1 for result in self.results if result.kind == "succeeded")
        if self.status in _TERMINAL:  # every line not completed (errored, expired, cancelled) failed
            return {"total": total, "completed": completed, "failed": total - completed}
        errored = sum(1 for result in self.results if result.kind == "errored")
        return {"total": total, "completed": completed, "failed": errored}

    def usage(self) -> dict[str, Any]:
        prompt = completion = 0
        for result in self.results:
            if result.kind == "succeeded":
                prompt += result.body["usage"]["prompt_tokens"]
                completion += result.body["usage"]["completion_tokens"]
        return {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }

    def to_json(self) -> dict[str, Any]:
        """The OpenAI ``batch`` object."""
        stamp = self.stamps.get
        errors = {"object": "list", "data": self.validation_errors} if self.status == "failed" else None
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": CHAT_ENDPOINT,
            "model": self.model,
            "errors": errors,
            "input_file_id": self.input_file_id,
            "completion_window": "24h",
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": int(self.timeline.created_at),
            "in_progress_at": _int_or_none(stamp("in_progress_at")),
            "expires_at": int(self.timeline.created_at) + _DAY_S,
            "finalizing_at": _int_or_none(stamp("finalizing_at")),
            "completed_at": _int_or_none(stamp("completed_at")),
            "failed_at": _int_or_none(stamp("failed_at")),
            "expired_at": _int_or_none(stamp("expired_at")),
            "cancelling_at": _int_or_none(stamp("cancelling_at")),
            "cancelled_at": _int_or_none(stamp("cancelled_at")),
            "request_counts": self.request_counts(),
            "metadata": self.metadata,
            "usage": self.usage(),
        }


class OpenAIBatchStore:
    def __init__(
        self, responder: Responder, files: FileStore, delay_s: float, *, queue_limit: int | None = None
    ) -> None:
        self._queue_limit = queue_limit
        self.refused = 0
        """Batches failed with ``token_limit_exceeded`` because the queue limit was reached."""
        self._responder = responder
        self._files = files
        self._delay_s = delay_s
        self._batches: dict[str, OpenAIBatch] = {}
        self._numbers = itertools.count(1)

    def create(self, input_file_id: str, input_data: bytes, metadata: dict[str, Any] | None) -> OpenAIBatch:
        lines, errors = parse_input_file(input_data)
        if self._queue_limit is not None and not errors:
            queued = sum(len(b.lines) for b in self.newest_first() if b.status not in _TERMINAL)
            if queued + len(lines) > self._queue_limit:
                self.refused += 1
                errors = [_queue_full(lines[0].body.get("model") if lines else None, self._queue_limit)]
        batch = OpenAIBatch(
            id=sequential_id("batch_", "openai-batch", next(self._numbers)),
            input_file_id=input_file_id,
            metadata=metadata,
            timeline=Timeline(time.time(), self._delay_s),
            lines=lines,
            validation_errors=errors,
        )
        self._batches[batch.id] = batch
        return batch

    def get(self, batch_id: str) -> OpenAIBatch | None:
        batch = self._batches.get(batch_id)
        if batch is not None:
            self.advance(batch, time.time())
        return batch

    def newest_first(self) -> list[OpenAIBatch]:
        now = time.time()
        batches = list(reversed(self._batches.values()))
        for batch in batches:
            self.advance(batch, now)
        return batches

    def cancel(self, batch: OpenAIBatch) -> bool:
        """Start cancelling ``batch``; False when it has already ended."""
        now = time.time()
        self.advance(batch, now)
        if batch.status in _TERMINAL:
            return False
        if batch.status != "cancelling":
            batch.status = "cancelling"
            batch.stamps["cancelling_at"] = now
        return True

    def clear(self) -> None:
        self._batches.clear()

    def advance(self, batch: OpenAIBatch, now: float) -> None:
        """Bring ``batch`` to the state its timeline gives for ``now``."""
        timeline = batch.timeline
        if batch.status == "validating" and now >= timeline.in_progress_at:
            if batch.validation_errors:
                batch.status = "failed"
                batch.stamps["failed_at"] = timeline.in_progress_at
                return
            batch.status = "in_progress"
            batch.stamps["in_progress_at"] = timeline.in_progress_at
        if batch.status == "in_progress":
            self._process(batch, timeline.processed(len(batch.lines), now))
            if now >= timeline.finalizing_at:
                batch.status = "finalizing"
                batch.stamps["finalizing_at"] = timeline.finalizing_at
        if batch.status == "finalizing" and now >= timeline.done_at:
            self._process(batch, len(batch.lines))
            expired = any(result.kind == "expired" for result in batch.results)
            batch.status = "expired" if expired else "completed"
            batch.stamps["expired_at" if expired else "completed_at"] = timeline.done_at
            self._write_files(batch)
        if batch.status == "cancelling" and now >= timeline.cancel_settles_at(batch.stamps["cancelling_at"]):
            batch.status = "cancelled"
            batch.stamps["cancelled_at"] = timeline.cancel_settles_at(batch.stamps["cancelling_at"])
            self._write_files(batch)

    def _process(self, batch: OpenAIBatch, count: int) -> None:
        for line in batch.lines[len(batch.results) : count]:
            batch.results.append(self._responder.evaluate_line(line.body, line.custom_id))

    def _write_files(self, batch: OpenAIBatch) -> None:
        outputs: list[bytes] = []
        errors: list[bytes] = []
        for index, line in enumerate(batch.lines):
            result = batch.results[index] if index < len(batch.results) else None
            record = _output_record(batch.id, line, result)
            (outputs if result is not None and result.kind == "succeeded" else errors).append(record)
        if outputs:
            batch.output_file_id = self._files.add(
                f"{batch.id}_output.jsonl", "batch_output", b"".join(outputs)
            ).id
        if errors:
            batch.error_file_id = self._files.add(
                f"{batch.id}_error.jsonl", "batch_output", b"".join(errors)
            ).id


def _queue_full(model: object, limit: int) -> dict[str, Any]:
    return {
        "code": "token_limit_exceeded",
        "message": f"Enqueued token limit reached for {model} in organization org-emulated. "
        f"Limit: {limit} requests (emulated). Please try again once some in_progress batches have been "
        "completed.",
        "param": None,
        "line": None,
    }


def _output_record(batch_id: str, line: BatchLine, result: LineResult | None) -> bytes:
    record_id = IdMaker(body_key(batch_id), 1).make("batch_req_", line.custom_id)
    if result is None or result.kind == "expired":
        error = _CANCELLED_ERROR if result is None else _EXPIRED_ERROR
        record: dict[str, Any] = {
            "id": record_id,
            "custom_id": line.custom_id,
            "response": None,
            "error": error,
        }
    else:
        response = {"status_code": result.status, "request_id": result.request_id, "body": result.body}
        record = {"id": record_id, "custom_id": line.custom_id, "response": response, "error": None}
    return orjson.dumps(record) + b"\n"


def parse_input_file(data: bytes) -> tuple[list[BatchLine], list[dict[str, Any]]]:
    """The requests of a batch input file, and the validation errors that fail the batch."""
    lines: list[BatchLine] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError:
            errors.append(
                _line_error("invalid_json_line", "This line is not parseable as valid JSON.", number)
            )
            continue
        problem = _line_problem(entry, seen)
        if problem is not None:
            code, message, param = problem
            errors.append(_line_error(code, message, number, param))
            continue
        seen.add(entry["custom_id"])
        lines.append(BatchLine(entry["custom_id"], entry["body"]))
    if not lines and not errors:
        errors.append(_line_error("empty_file", "The batch input file is empty.", None))
    return lines, errors


def _line_problem(entry: object, seen: set[str]) -> tuple[str, str, str | None] | None:
    """(code, message, param) of what is wrong with one parsed input line, or None."""
    if not isinstance(entry, dict):
        return "invalid_request", "Each line must be a JSON object.", None
    custom_id = entry.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return "missing_required_parameter", "Missing required parameter: 'custom_id'.", "custom_id"
    if custom_id in seen:
        message = "The custom_id for this request is a duplicate of another request."
        return "duplicate_custom_id", message, "custom_id"
    if entry.get("method") != "POST":
        return "invalid_method", "The method of this request must be POST.", "method"
    if entry.get("url") != CHAT_ENDPOINT:
        message = f"The URL provided for this request does not match the batch endpoint {CHAT_ENDPOINT}."
        return "invalid_url", message, "url"
    if not isinstance(entry.get("body"), dict):
        return "missing_required_parameter", "Missing required parameter: 'body'.", "body"
    return None


def _line_error(code: str, message: str, line: int | None, param: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)
