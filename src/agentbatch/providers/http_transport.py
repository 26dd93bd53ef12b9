"""``Transport`` over plain HTTP/1.1: the default for a direct call (decision 0012).

A direct call posts bytes we already encoded and reads bytes we parse ourselves, so all an SDK adds is
its own Python work per call: ~1,200 µs of CPU against ~50 µs for the same exchange here
(``benchmarks/provider_call_cpu.py``). What the SDKs give a direct call is carried over, from their
documented behaviour: the endpoint (the same ``OPENAI_BASE_URL``/``ANTHROPIC_BASE_URL`` variables and
defaults), the authentication and version headers, TLS verified against certifi's roots (as httpx does),
a 600 s request timeout with a 5 s connect timeout, and the same mapping of statuses into
``ProviderError``s (``errors.status_error``). The SDK transport stays a setting away
(``AGENTBATCH_PROVIDER_TRANSPORT=sdk``).

Connections are kept alive and reused, one request at a time each (no pipelining), as many as calls in
flight (the gateway bounds those per model). A connection the server closed while idle is dropped; if a
reused connection dies before any byte of the response arrives (the server closed it as we wrote), the
request is sent once more on a new connection: the server never read it. Any other failure, a timeout
or a cancel closes the connection, so no late reply can be taken for the next request's.
"""

import asyncio
import os
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import (
    InvalidResponse,
    ProviderRejected,
    ProviderTimedOut,
    status_error,
    transport_failure,
)
from agentbatch.providers.http_connection import (
    ConnectionClosedEarly,
    HttpConnection,
    HttpReply,
    MalformedResponse,
)

TIMEOUT_S = 600.0
"""A whole request, as the SDKs' default."""
CONNECT_TIMEOUT_S = 5.0
"""Opening a connection (TCP and TLS), as the SDKs' default."""
ANTHROPIC_VERSION = "2023-06-01"
USER_AGENT = "agentbatch"

_DEFAULT_BASE = {
    WireProtocol.OPENAI: ("OPENAI_BASE_URL", "https://api.openai.com/v1"),
    WireProtocol.ANTHROPIC: ("ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
}
_OPENAI_OPTIONAL_HEADERS = (("OpenAI-Organization", "OPENAI_ORG_ID"), ("OpenAI-Project", "OPENAI_PROJECT_ID"))
_PATH = {WireProtocol.OPENAI: "/chat/completions", WireProtocol.ANTHROPIC: "/v1/messages"}


@dataclass(frozen=True, slots=True)
class HttpEndpoint:
    """Where a protocol's chat requests go, and the fixed part of every request's head."""

    host: str
    port: int
    tls: bool
    path: str
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, protocol: WireProtocol, *, base_url: str | None, api_key: str | None) -> "HttpEndpoint":
        """As the vendor's SDK resolves it: ``base_url``, else the SDK's variable, else its default."""
        variable, default = _DEFAULT_BASE[protocol]
        base = (base_url or os.environ.get(variable) or default).rstrip("/")
        url = urlsplit(base)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ProviderRejected(f"a base URL must be http(s)://host[:port][/path], not {base!r}")
        tls = url.scheme == "https"
        headers: list[tuple[str, str]] = []
        if protocol is WireProtocol.ANTHROPIC:
            headers += [("x-api-key", api_key or ""), ("anthropic-version", ANTHROPIC_VERSION)]
        else:
            headers.append(("Authorization", f"Bearer {api_key or ''}"))
            for name, variable in _OPENAI_OPTIONAL_HEADERS:
                if value := os.environ.get(variable):
                    headers.append((name, value))
        for name, value in headers:
            if any(character in value for character in "\r\n\0"):
                raise ProviderRejected(f"the provider's {name} header holds a line break or NUL")
        port = url.port or (443 if tls else 80)
        return cls(url.hostname, port, tls, url.path + _PATH[protocol], tuple(headers))

    def request_head(self) -> bytes:
        """Everything of a request before its ``Content-Length``."""
        default_port = 443 if self.tls else 80
        host = self.host if self.port == default_port else f"{self.host}:{self.port}"
        if ":" in self.host:
            host = f"[{self.host}]" if self.port == default_port else f"[{self.host}]:{self.port}"
        lines = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {host}",
            f"User-Agent: {USER_AGENT}",
            "Accept: application/json",
            "Content-Type: application/json",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def _tls_context() -> ssl.SSLContext:
    import certifi

    context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context


class HttpTransport:
    """``Transport``: POST an encoded chat request on a pooled keep-alive connection."""

    def __init__(
        self,
        endpoint: HttpEndpoint,
        *,
        timeout_s: float = TIMEOUT_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._head = endpoint.request_head()
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._tls = (tls or _tls_context()) if endpoint.tls else None
        self._idle: list[HttpConnection] = []
        self._busy: set[HttpConnection] = set()

    @classmethod
    def of(cls, protocol: WireProtocol, *, base_url: str | None, api_key: str | None) -> "HttpTransport":
        return cls(HttpEndpoint.of(protocol, base_url=base_url, api_key=api_key))

    @property
    def open_connections(self) -> int:
        return len(self._idle) + len(self._busy)

    async def post_json(self, body: bytes) -> bytes:
        request = b"%sContent-Length: %d\r\n\r\n%s" % (self._head, len(body), body)
        try:
            async with asyncio.timeout(self._timeout_s):
                reply = await self._send(request)
        except TimeoutError as error:
            raise ProviderTimedOut(f"the provider did not answer within {self._timeout_s:g} s") from error
        except MalformedResponse as error:
            raise InvalidResponse(f"the provider's answer is not HTTP/1.1: {error}") from error
        except OSError as error:
            raise transport_failure(error) from error
        if 200 <= reply.status < 300:
            return reply.body
        raise status_error(reply.status, reply.body, reply.retry_after)

    async def _send(self, request: bytes) -> HttpReply:
        idle = self._idle_connection()
        if idle is not None:
            try:
                return await self._exchange(idle, request)
            except ConnectionClosedEarly as error:
                if error.answered:
                    raise
                # it closed as we wrote, before the server read a byte: once more, on a new connection
        return await self._exchange(await self._connect(), request)

    async def _exchange(self, connection: HttpConnection, request: bytes) -> HttpReply:
        """One request on ``connection``: back to the idle pool after a kept-alive reply, closed after
        anything else (a failure, a timeout, a cancel, or a reply that ends the connection)."""
        self._busy.add(connection)
        try:
            reply = await connection.exchange(request)
        except BaseException:
            connection.close()
            raise
        finally:
            self._busy.discard(connection)
        if connection.keep_alive and not connection.closed:
            self._idle.append(connection)
        else:
            connection.close()
        return reply

    def _idle_connection(self) -> HttpConnection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self) -> HttpConnection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                _, connection = await loop.create_connection(
                    HttpConnection,
                    self.endpoint.host,
                    self.endpoint.port,
                    ssl=self._tls,
                    server_hostname=self.endpoint.host if self._tls else None,
                )
        except TimeoutError as error:
            raise ConnectionAbortedError(
                f"no connection to {self.endpoint.host}:{self.endpoint.port} within "
                f"{self._connect_timeout_s:g} s"
            ) from error
        return connection

    async def close(self) -> None:
        for connection in (*self._idle, *self._busy):
            connection.close()
        self._idle.clear()
        self._busy.clear()
