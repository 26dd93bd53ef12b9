"""A provider process serving the engine: runs SDK calls on its own core (started by ``child_entry``).

It reads ``call`` frames (provider, body), posts each through that provider's SDK transport, and
answers ``ok`` (reply bytes) or ``error`` (the ``ProviderError`` as a ``WireError``); a ``cancel`` frame
aborts a call. A provider's SDK is imported when the first call to it arrives: an idle child holds no
SDK, and a child that only calls OpenAI never holds the Anthropic SDK (importing it costs ~0.8 s of CPU).
"""

import asyncio
import functools
import socket
from pathlib import Path

from agentbatch.performance import EVENT_LOOP_FACTORY, tune_garbage_collector
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.providers.errors import ProviderError
from agentbatch.providers.process_pool.frames import FrameHeader, FrameOp, WireError, read_frame, write_frame
from agentbatch.providers.transports import create_transport
from agentbatch.providers.wire_chat import Transport


class ChildServer:
    def __init__(self, catalog: ProviderCatalog, writer: asyncio.StreamWriter) -> None:
        self._catalog = catalog
        self._writer = writer
        self._transports: dict[str, Transport] = {}
        self._calls: dict[int, asyncio.Task[None]] = {}

    async def serve(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                header, body = await read_frame(reader)
                if header.op is FrameOp.CANCEL:
                    if (task := self._calls.get(header.id)) is not None:
                        task.cancel()
                    continue
                task = asyncio.create_task(self._call(header.id, header.provider, body))
                self._calls[header.id] = task
                task.add_done_callback(functools.partial(self._forget, header.id))
        except asyncio.IncompleteReadError:
            return  # the engine went away
        finally:
            for task in self._calls.values():
                task.cancel()
            for transport in self._transports.values():
                await transport.close()

    def _transport(self, provider: str) -> Transport:
        transport = self._transports.get(provider)
        if transport is None:
            transport = self._transports[provider] = create_transport(self._catalog, provider, "sdk")
        return transport

    def _forget(self, call_id: int, _task: "asyncio.Task[None]") -> None:
        self._calls.pop(call_id, None)

    async def _call(self, call_id: int, provider: str, body: bytes) -> None:
        try:
            reply = await self._transport(provider).post_json(body)
        except ProviderError as error:
            self._fail(call_id, error)
        except Exception as error:  # an SDK surprise must not kill the other calls
            self._fail(call_id, ProviderError(f"{type(error).__name__}: {error}"))
        else:
            write_frame(self._writer, FrameHeader(call_id, FrameOp.OK), reply)

    def _fail(self, call_id: int, error: ProviderError) -> None:
        write_frame(self._writer, FrameHeader(call_id, FrameOp.ERROR, error=WireError.of(error)))


async def main(fd: int, providers_file: str | None) -> None:
    sock = socket.socket(fileno=fd)
    reader, writer = await asyncio.open_connection(sock=sock)
    catalog = ProviderCatalog.from_file(Path(providers_file) if providers_file else None)
    tune_garbage_collector()
    await ChildServer(catalog, writer).serve(reader)


def run(fd: int, providers_file: str | None) -> None:
    with asyncio.Runner(loop_factory=EVENT_LOOP_FACTORY) as runner:
        runner.run(main(fd, providers_file))
