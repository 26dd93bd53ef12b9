"""One keep-alive HTTP/1.1 connection to a provider, carrying one request at a time (``HttpTransport``
pools them). The response is parsed by ``httptools`` (llhttp, the parser uvicorn serves with); nothing
else sits between the socket and the reply's bytes (decision 0012)."""

import asyncio
from dataclasses import dataclass
from typing import cast

import httptools

RETRY_AFTER_HEADERS = (b"retry-after", b"retry-after-ms")
"""The only response headers a step reads (how long a 429 or 503 asks us to wait)."""


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    body: bytes
    retry_after: dict[str, str]
    """``retry-after`` / ``retry-after-ms`` as sent, lower-cased names; usually empty."""


class ConnectionClosedEarly(ConnectionResetError):
    """The connection ended before a whole response arrived."""

    def __init__(self, message: str, *, answered: bool) -> None:
        super().__init__(message)
        self.answered = answered
        """Whether any byte of a response had arrived (if none, the server never read the request)."""


class MalformedResponse(Exception):
    """The bytes from the server are not an HTTP/1.1 response."""


class HttpConnection(asyncio.Protocol):
    """``asyncio.Protocol`` plus the parser's callbacks: ``exchange`` writes a request and waits for the
    whole response. Idle between exchanges; a server closing it then only marks it ``closed``."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._reply: asyncio.Future[HttpReply] | None = None
        self._chunks: list[bytes] = []
        self._headers: dict[str, str] = {}
        self._answered = False
        self.closed = False
        self.keep_alive = True

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        self._answered = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(MalformedResponse(f"not an HTTP response: {error}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._reply is not None and not self._reply.done():
            reason = f": {exc}" if exc is not None else ""
            message = f"the provider closed the connection{reason}"
            self._fail(ConnectionClosedEarly(message, answered=self._answered))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered in RETRY_AFTER_HEADERS:
            self._headers[lowered.decode("latin-1")] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = bool(self._parser.should_keep_alive())
        reply = HttpReply(self._parser.get_status_code(), b"".join(self._chunks), self._headers)
        if self._reply is not None and not self._reply.done():
            self._reply.set_result(reply)

    # use
    async def exchange(self, request: bytes) -> HttpReply:
        """Send one whole request; the whole response, or ``ConnectionClosedEarly``/``MalformedResponse``.
        The caller closes the connection if this raises or is cancelled: a late response must not be read
        as the answer to the next request."""
        assert self._transport is not None and self._reply is None
        self._reply = asyncio.get_running_loop().create_future()
        self._chunks = []
        self._headers = {}
        self._answered = False
        try:
            self._transport.write(request)
            return await self._reply
        finally:
            self._reply = None

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def _fail(self, error: Exception) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(error)
