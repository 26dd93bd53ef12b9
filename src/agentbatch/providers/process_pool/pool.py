"""Provider processes: the SDK calls of this process's turns, run in child processes on other cores.

The provider SDK's own work (building, sending and reading each request) is most of a step's CPU. On a
machine with several cores, running it in N children lets one engine process (e.g. the single embedded
worker on SQLite) drive far more steps per second. The engine keeps every decision (limits, retries,
backoff); a child only posts bodies and returns replies or ``ProviderError``s. A child that dies fails
its calls as ``ProviderUnavailable`` (retried like any outage) and is replaced on the next call.

The children start when their owner calls ``start`` (the engine does so right after start-up, in the
background) or with the first call, whichever is first; a child loads a provider's SDK with the first
call to that provider. An idle child has imported nothing (``child_entry``).
"""

import asyncio
import contextlib
import itertools
import logging
import socket
import sys
from pathlib import Path

from agentbatch.providers.errors import ProviderUnavailable
from agentbatch.providers.process_pool.frames import FrameHeader, FrameOp, read_frame, write_frame

log = logging.getLogger(__name__)


class ProviderProcess:
    def __init__(self, providers_file: Path | None, stop_timeout_s: float = 10.0) -> None:
        self._providers_file = providers_file
        self._stop_timeout_s = stop_timeout_s
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[bytes]] = {}
        self._ids = itertools.count(1)
        self._closing = False

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None and self._writer is not None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def load(self) -> int:
        return len(self._pending)

    async def start(self) -> None:
        self._closing = False
        parent, child = socket.socketpair()
        args = [sys.executable, "-m", "agentbatch.providers.process_pool.child_entry", str(child.fileno())]
        if self._providers_file is not None:
            args.append(str(self._providers_file))
        self._process = await asyncio.create_subprocess_exec(*args, pass_fds=(child.fileno(),))
        child.close()
        reader, self._writer = await asyncio.open_connection(sock=parent)
        self._reader_task = asyncio.create_task(self._read_replies(reader))

    async def call(self, provider: str, body: bytes) -> bytes:
        assert self._writer is not None
        call_id = next(self._ids)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        try:
            write_frame(self._writer, FrameHeader(call_id, FrameOp.CALL, provider), body)
            return await future
        except asyncio.CancelledError:
            if self.alive:
                write_frame(self._writer, FrameHeader(call_id, FrameOp.CANCEL))  # abort the call in the child
            raise
        finally:
            self._pending.pop(call_id, None)

    async def _read_replies(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                header, body = await read_frame(reader)
                future = self._pending.get(header.id)
                if future is None or future.done():
                    continue
                if header.error is None:
                    future.set_result(body)
                else:
                    future.set_exception(header.error.to_error())
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writer = None
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ProviderUnavailable("the provider process exited during the call"))
            if not self._closing:
                log.warning("a provider process stopped; it will be replaced")

    async def close(self) -> None:
        self._closing = True
        if self._writer is not None:
            self._writer.close()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._process.wait(), timeout=self._stop_timeout_s)
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task


class ProviderProcessPool:
    def __init__(
        self, size: int, providers_file: Path | None = None, *, stop_timeout_s: float = 10.0
    ) -> None:
        self._processes = [ProviderProcess(providers_file, stop_timeout_s) for _ in range(size)]
        self._lock = asyncio.Lock()
        self._started = False

    @property
    def size(self) -> int:
        return len(self._processes)

    @property
    def pids(self) -> list[int]:
        return [pid for process in self._processes if (pid := process.pid) is not None]

    @property
    def started(self) -> bool:
        """Whether the children were started (by ``start`` or the first call)."""
        return self._started

    async def start(self) -> None:
        async with self._lock:
            if not self._started:
                for process in self._processes:
                    await process.start()
                self._started = True

    async def call(self, provider: str, body: bytes) -> bytes:
        if not self._started:
            await self.start()
        process = min(self._processes, key=lambda candidate: (not candidate.alive, candidate.load))
        if not process.alive:
            async with self._lock:
                if not process.alive:
                    await process.close()
                    await process.start()
        return await process.call(provider, body)

    async def close(self) -> None:
        for process in self._processes:
            await process.close()


class PooledTransport:
    """A provider's transport whose SDK calls run in the pool's processes."""

    def __init__(self, pool: ProviderProcessPool, provider: str) -> None:
        self._pool = pool
        self._provider = provider

    async def post_json(self, body: bytes) -> bytes:
        return await self._pool.call(self._provider, body)

    async def close(self) -> None:
        """The pool is closed by its owner, not by each provider's transport."""
