"""A provider process: runs SDK calls for the engine, on its own core.

``python -m agentbatch.providers.pool_child FD [PROVIDERS_FILE]`` — FD is its end of a socket pair.
It reads ``call`` frames (provider, body), posts each through that provider's SDK transport, and
answers ``ok`` (reply bytes) or ``error`` (the ``ProviderError``); a ``cancel`` frame aborts a call.
"""

import asyncio
import contextlib
import functools
import gc
import socket
import sys
from pathlib import Path

import uvloop

from agentbatch.process_hardening import forbid_inspection
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.providers.errors import ProviderError
from agentbatch.providers.pool_frames import error_header, read_frame, write_frame
from agentbatch.providers.transports import create_transport
from agentbatch.providers.wire_chat import Transport


class ChildServer:
    def __init__(self, catalog: ProviderCatalog, writer: asyncio.StreamWriter) -> None:
        self._catalog = catalog
        self._writer = writer
        self._transports: dict[str, Transport] = {}
        self._calls: dict[int, asyncio.Task[None]] = {}

    def warm_up(self) -> None:
        """Build the SDK clients of every provider that has a key now, so the first call pays no imports."""
        for provider in self._catalog.names:
            with contextlib.suppress(ProviderError):
                self._transports[provider] = create_transport(self._catalog, provider)

    async def serve(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                header, body = await read_frame(reader)
                call_id = int(header["id"])
                if header["op"] == "cancel":
                    if (task := self._calls.get(call_id)) is not None:
                        task.cancel()
                    continue
                task = asyncio.create_task(self._call(call_id, str(header["provider"]), body))
                self._calls[call_id] = task
                task.add_done_callback(functools.partial(self._forget, call_id))
        except asyncio.IncompleteReadError:
            return  # the engine went away
        finally:
            for task in self._calls.values():
                task.cancel()
            for transport in self._transports.values():
                await transport.close()

    def _forget(self, call_id: int, _task: "asyncio.Task[None]") -> None:
        self._calls.pop(call_id, None)

    async def _call(self, call_id: int, provider: str, body: bytes) -> None:
        try:
            transport = self._transports.get(provider)
            if transport is None:
                transport = self._transports[provider] = create_transport(self._catalog, provider)
            reply = await transport.post_json(body)
        except ProviderError as error:
            write_frame(self._writer, {"id": call_id, "op": "error", **error_header(error)})
        except Exception as error:  # an SDK surprise must not kill the other calls
            failure = ProviderError(f"{type(error).__name__}: {error}")
            write_frame(self._writer, {"id": call_id, "op": "error", **error_header(failure)})
        else:
            write_frame(self._writer, {"id": call_id, "op": "ok"}, reply)


async def main(fd: int, providers_file: str | None) -> None:
    sock = socket.socket(fileno=fd)
    reader, writer = await asyncio.open_connection(sock=sock)
    catalog = ProviderCatalog.from_file(Path(providers_file) if providers_file else None)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    server = ChildServer(catalog, writer)
    server.warm_up()
    await server.serve(reader)


if __name__ == "__main__":
    forbid_inspection()  # it holds the provider keys: no other process may read its memory or environ
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None))
