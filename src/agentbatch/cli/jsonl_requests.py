"""A JSONL file of batch requests, turned into a create body while it is sent — never held whole.

Each non-blank line is one request in the create body's shape (``agent_id``, ``input`` or
``messages``, ``custom_id``, …). Lines are checked one at a time as they stream out; a bad one stops the
upload (the server then sees a cut-off body and creates nothing) and is reported with its line number.
Lines go out in chunks of about ``CHUNK_BYTES``: one chunk a line made 100,000 tiny chunked-encoding writes
(seconds of client CPU for a large file; benchmarks/overhead.py).
"""

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

CHUNK_BYTES = 256 * 1024


class BadLine(Exception):
    def __init__(self, line_no: int, problem: str) -> None:
        super().__init__(f"line {line_no}: {problem}")
        self.line_no = line_no


class RequestLines:
    """Streams ``{"requests": [<line>, …], <extra fields>}``; remembers which line each request was on,
    so a server error naming ``requests[i]`` can name the line."""

    def __init__(self, lines: Iterable[bytes], extra: dict[str, Any]) -> None:
        self._lines = lines
        self._extra = extra
        self.line_numbers: list[int] = []

    def __iter__(self) -> Iterator[bytes]:
        chunk = [b'{"requests":[']
        size = 0
        for line_no, raw in enumerate(self._lines, start=1):
            text = raw.strip()
            if not text:
                continue
            try:
                request = orjson.loads(text)
            except orjson.JSONDecodeError as bad:
                raise BadLine(line_no, f"not valid JSON ({bad})") from None
            if not isinstance(request, dict):
                raise BadLine(line_no, "must be a JSON object: one request of the batch")
            if not isinstance(request.get("agent_id"), str):
                raise BadLine(line_no, "has no agent_id")
            if self.line_numbers:
                chunk.append(b",")
            chunk.append(text)
            self.line_numbers.append(line_no)
            size += len(text)
            if size >= CHUNK_BYTES:
                yield b"".join(chunk)
                chunk, size = [], 0
        if not self.line_numbers:
            raise BadLine(0, "the file holds no requests")
        tail = orjson.dumps(self._extra)[1:]  # '}' or ',"k":v}' — the rest of the body
        chunk.append(b"]" + (b"," + tail if len(tail) > 1 else tail))
        yield b"".join(chunk)

    def line_of(self, index: int) -> int | None:
        return self.line_numbers[index] if 0 <= index < len(self.line_numbers) else None
