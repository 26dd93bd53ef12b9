"""Reading what a child writes without letting it fill the parent's memory, and turning it into lines."""

import asyncio
import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Captured:
    data: bytes  # at most the cap
    total_bytes: int  # everything the child wrote, kept or not

    @property
    def truncated(self) -> bool:
        return self.total_bytes > len(self.data)


class BoundedBuffer:
    """Keeps the first ``cap`` bytes fed to it and counts the rest."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._kept = bytearray()
        self._total = 0

    def feed(self, chunk: bytes) -> None:
        self._total += len(chunk)
        room = self._cap - len(self._kept)
        if room > 0:
            self._kept += chunk[:room]

    def captured(self) -> Captured:
        return Captured(bytes(self._kept), self._total)


class _Collector(asyncio.Protocol):
    def __init__(self, buffer: BoundedBuffer, finished: asyncio.Future[None]) -> None:
        self._buffer = buffer
        self._finished = finished

    def data_received(self, data: bytes) -> None:
        self._buffer.feed(data)

    def eof_received(self) -> bool | None:
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._finished.done():
            self._finished.set_result(None)


class OutputPipe:
    """A pipe made for one child: it writes to ``child_fd``, the parent keeps the first ``cap`` bytes.

    The parent reads continuously, so the child never blocks on a full pipe however much it writes.
    Close the parent's copy of the child's end once the child is started, or end of file never comes.
    """

    def __init__(self, cap: int) -> None:
        read_fd, self.child_fd = os.pipe()  # both close-on-exec until handed to the child
        self._child_fd_open = True
        self._read_file = open(read_fd, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        self._buffer = BoundedBuffer(cap)
        self._transport: asyncio.ReadTransport | None = None
        self._finished: asyncio.Future[None] | None = None

    def close_child_end(self) -> None:
        if self._child_fd_open:
            self._child_fd_open = False
            os.close(self.child_fd)

    async def start_reading(self) -> None:
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()
        self._transport, _ = await loop.connect_read_pipe(
            lambda: _Collector(self._buffer, finished), self._read_file
        )
        self._finished = finished

    async def wait_closed(self, deadline: float) -> bool:
        """Whether the child side reached end of file by ``deadline`` (event-loop time)."""
        if self._finished is None:
            return True
        budget = deadline - asyncio.get_running_loop().time()
        done, _ = await asyncio.wait({self._finished}, timeout=max(budget, 0.0))
        return bool(done)

    def close(self) -> None:
        """Idempotent. Once reading has started, the transport owns the read end."""
        self.close_child_end()
        if self._transport is not None:
            self._transport.close()
        else:
            self._read_file.close()

    def captured(self) -> Captured:
        return self._buffer.captured()


def to_lines(captured: Captured) -> list[str]:
    """Decoded leniently (garbage becomes U+FFFD), split on newlines, with a last line saying if cut."""
    text = captured.data.decode("utf-8", errors="replace")
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines[-1] == "":
        lines.pop()
    if captured.truncated:
        kept, total = len(captured.data), captured.total_bytes
        lines.append(f"[truncated: {total} bytes, only the first {kept} are kept]")
    return lines
