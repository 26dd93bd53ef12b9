"""Our HTTP client for direct calls (``http_transport``), against a scripted server on loopback: what it
sends, how it reuses and drops connections, and how each way a server can fail reaches the engine."""

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import trustme

from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import (
    InvalidResponse,
    ProviderRejected,
    ProviderTimedOut,
    ProviderUnavailable,
    ProviderUnreachable,
    RateLimited,
)
from agentbatch.providers.http_transport import HttpEndpoint, HttpTransport

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"

Answer = Callable[["Request", asyncio.StreamWriter], Awaitable[bool]]
"""Writes a reply to one request; False closes the connection."""


@dataclass
class Request:
    head: bytes
    body: bytes
    connection: int


@dataclass
class ScriptedServer:
    answer: Answer
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = Request(head, await reader.readexactly(length), connection)
                self.requests.append(request)
                if not await self.answer(request, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[ScriptedServer]]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer, tls: ssl.SSLContext | None = None) -> ScriptedServer:
        scripted = ScriptedServer(answer)
        server = await asyncio.start_server(scripted._serve, "127.0.0.1", 0, ssl=tls)
        scripted.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return scripted

    yield start
    for server in servers:
        server.close()


def echo(request: Request) -> bytes:
    return OK % (len(request.body), request.body)


async def answer_ok(request: Request, writer: asyncio.StreamWriter) -> bool:
    writer.write(echo(request))
    return True


def transport_for(server: ScriptedServer, **options: float) -> HttpTransport:
    endpoint = HttpEndpoint.of(
        WireProtocol.OPENAI, base_url=f"http://127.0.0.1:{server.port}/v1", api_key="sk-test"
    )
    return HttpTransport(endpoint, **options)


async def test_a_call_posts_the_body_with_the_sdk_headers_and_returns_the_reply(serve) -> None:
    server = await serve(answer_ok)
    transport = transport_for(server)
    assert await transport.post_json(b'{"model":"m"}') == b'{"model":"m"}'
    head = server.requests[0].head.decode()
    assert head.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in head
    assert "Authorization: Bearer sk-test\r\n" in head
    assert "Content-Type: application/json\r\n" in head
    assert "Content-Length: 13\r\n" in head
    await transport.close()


async def test_anthropic_requests_carry_its_key_and_version_headers(serve) -> None:
    server = await serve(answer_ok)
    endpoint = HttpEndpoint.of(
        WireProtocol.ANTHROPIC, base_url=f"http://127.0.0.1:{server.port}", api_key="k"
    )
    transport = HttpTransport(endpoint)
    await transport.post_json(b"{}")
    head = server.requests[0].head.decode()
    assert head.startswith("POST /v1/messages HTTP/1.1\r\n")
    assert "x-api-key: k\r\n" in head and "anthropic-version: 2023-06-01\r\n" in head
    await transport.close()


async def test_sequential_calls_share_one_kept_alive_connection(serve) -> None:
    server = await serve(answer_ok)
    transport = transport_for(server)
    replies = [await transport.post_json(b'{"n":%d}' % n) for n in range(5)]
    assert replies == [b'{"n":%d}' % n for n in range(5)]
    assert server.connections == 1 and transport.open_connections == 1
    await transport.close()


async def test_concurrent_calls_each_get_their_own_reply(serve) -> None:
    async def slow_first(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.body == b'{"n":0}':
            await asyncio.sleep(0.05)  # the first reply comes last: replies must not cross
        writer.write(echo(request))
        return True

    server = await serve(slow_first)
    transport = transport_for(server)
    bodies = [b'{"n":%d}' % n for n in range(20)]
    assert await asyncio.gather(*(transport.post_json(body) for body in bodies)) == bodies
    await transport.close()


async def test_a_connection_the_server_closed_while_idle_is_replaced(serve) -> None:
    async def one_per_connection(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(echo(request))
        return False  # closes after each reply, without saying "Connection: close"

    server = await serve(one_per_connection)
    transport = transport_for(server)
    for n in range(3):
        assert await transport.post_json(b'{"n":%d}' % n) == b'{"n":%d}' % n
    assert server.connections == 3
    assert [request.body for request in server.requests] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    await transport.close()


async def test_a_kept_connection_closed_before_any_reply_byte_is_retried_once_on_a_new_one(serve) -> None:
    async def drops_second_on_first_connection(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.connection == 1 and len(server.requests) == 2:
            return False  # closed as the client reused it: not a byte of a reply
        writer.write(echo(request))
        return True

    server = await serve(drops_second_on_first_connection)
    transport = transport_for(server)
    assert await transport.post_json(b'{"n":1}') == b'{"n":1}'
    assert await transport.post_json(b'{"n":2}') == b'{"n":2}'
    assert [(r.connection, r.body) for r in server.requests] == [
        (1, b'{"n":1}'),
        (1, b'{"n":2}'),
        (2, b'{"n":2}'),
    ]
    await transport.close()


async def test_connection_close_in_the_reply_is_honoured(serve) -> None:
    async def close_header(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
            % (len(request.body), request.body)
        )
        return True  # the server would take another request: the client must not send one

    server = await serve(close_header)
    transport = transport_for(server)
    await transport.post_json(b"{}")
    await transport.post_json(b"{}")
    assert server.connections == 2 and [r.connection for r in server.requests] == [1, 2]
    await transport.close()


async def test_a_chunked_reply_is_read_whole(serve) -> None:
    async def chunked(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (b'{"a":', b'"bc', b'"}'):
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        return True

    server = await serve(chunked)
    transport = transport_for(server)
    assert await transport.post_json(b"{}") == b'{"a":"bc"}'
    await transport.close()


def status_reply(status: bytes, body: bytes, extra: bytes = b"") -> Answer:
    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n%s" % (status, extra, len(body), body))
        return True

    return answer


@pytest.mark.parametrize(
    ("status", "extra", "error", "retry_after"),
    [
        (b"429 Too Many Requests", b"retry-after: 2\r\n", RateLimited, 2.0),
        (b"429 Too Many Requests", b"Retry-After-Ms: 1500\r\n", RateLimited, 1.5),
        (b"503 Service Unavailable", b"", ProviderUnavailable, None),
        (b"529 Overloaded", b"", ProviderUnavailable, None),
        (b"408 Request Timeout", b"", ProviderUnavailable, None),
        (b"400 Bad Request", b"", ProviderRejected, None),
        (b"401 Unauthorized", b"", ProviderRejected, None),
    ],
)
async def test_an_error_status_maps_into_the_provider_error_tree(
    serve, status: bytes, extra: bytes, error: type[Exception], retry_after: float | None
) -> None:
    body = b'{"error":{"message":"no, because reasons"}}'
    server = await serve(status_reply(status, body, extra))
    transport = transport_for(server)
    with pytest.raises(error) as raised:
        await transport.post_json(b"{}")
    assert type(raised.value) is error
    assert "no, because reasons" in str(raised.value)
    assert raised.value.status == int(status[:3])  # type: ignore[attr-defined]
    if retry_after is not None:
        assert raised.value.retry_after == retry_after  # type: ignore[attr-defined]
    with pytest.raises(error):
        await transport.post_json(b"{}")
    assert server.connections == 1  # an error reply leaves the connection usable
    await transport.close()


async def test_an_error_body_is_kept_to_an_excerpt_in_the_message(serve) -> None:
    server = await serve(status_reply(b"400 Bad Request", b"x" * 100_000))
    transport = transport_for(server)
    with pytest.raises(ProviderRejected) as raised:
        await transport.post_json(b"{}")
    assert 1_000 <= len(str(raised.value)) < 1_100
    await transport.close()


async def test_bytes_that_are_not_http_are_an_invalid_response(serve) -> None:
    async def garbage(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        return True

    server = await serve(garbage)
    transport = transport_for(server)
    with pytest.raises(InvalidResponse):
        await transport.post_json(b"{}")
    assert transport.open_connections == 0
    await transport.close()


async def test_a_server_that_hangs_up_mid_reply_is_unreachable_and_not_asked_again(serve) -> None:
    async def half(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial')
        await writer.drain()
        return False

    server = await serve(half)
    transport = transport_for(server)
    with pytest.raises(ProviderUnreachable, match="closed the connection"):
        await transport.post_json(b"{}")
    assert len(server.requests) == 1  # an answered request is never sent twice
    await transport.close()


async def test_no_answer_in_time_is_timed_out_and_the_connection_is_not_reused(serve) -> None:
    gate = asyncio.Event()

    async def late(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.body == b'{"late":true}':
            await gate.wait()
        writer.write(echo(request))
        return True

    server = await serve(late)
    transport = transport_for(server, timeout_s=0.2)
    with pytest.raises(ProviderTimedOut):
        await transport.post_json(b'{"late":true}')
    assert transport.open_connections == 0
    gate.set()  # the late reply now arrives on a connection nobody reads
    assert await transport.post_json(b'{"next":1}') == b'{"next":1}'
    await transport.close()


async def test_a_cancelled_call_closes_its_connection_so_its_reply_is_never_misread(serve) -> None:
    gate, arrived = asyncio.Event(), asyncio.Event()

    async def held(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.body == b'{"held":true}':
            arrived.set()
            await gate.wait()
        writer.write(echo(request))
        return True

    server = await serve(held)
    transport = transport_for(server)
    call = asyncio.create_task(transport.post_json(b'{"held":true}'))
    await asyncio.wait_for(arrived.wait(), timeout=10)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    gate.set()
    assert await transport.post_json(b'{"after":1}') == b'{"after":1}'
    assert server.connections == 2
    await transport.close()


async def test_nothing_listening_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = HttpEndpoint.of(WireProtocol.OPENAI, base_url=f"http://127.0.0.1:{port}/v1", api_key="k")
    transport = HttpTransport(endpoint)
    with pytest.raises(ProviderUnreachable, match="refused"):
        await transport.post_json(b"{}")
    await transport.close()


async def test_tls_is_verified_against_the_trusted_roots(serve) -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    server = await serve(answer_ok, tls=server_context)
    endpoint = HttpEndpoint.of(
        WireProtocol.OPENAI, base_url=f"https://127.0.0.1:{server.port}/v1", api_key="k"
    )

    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    transport = HttpTransport(endpoint, tls=trusting)
    assert await transport.post_json(b'{"secure":1}') == b'{"secure":1}'
    await transport.close()

    default_roots = HttpTransport(endpoint)  # certifi's roots do not know this authority
    with pytest.raises(ProviderUnreachable, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        await default_roots.post_json(b"{}")
    await default_roots.close()


@pytest.mark.parametrize(
    ("protocol", "variable"),
    [
        (WireProtocol.OPENAI, "OPENAI_BASE_URL"),
        (WireProtocol.ANTHROPIC, "ANTHROPIC_BASE_URL"),
    ],
)
def test_the_endpoint_is_resolved_as_the_sdks_do(
    monkeypatch: pytest.MonkeyPatch, protocol: WireProtocol, variable: str
) -> None:
    monkeypatch.delenv(variable, raising=False)
    default = HttpEndpoint.of(protocol, base_url=None, api_key="k")
    assert (default.tls, default.port) == (True, 443)
    assert default.host == ("api.openai.com" if protocol is WireProtocol.OPENAI else "api.anthropic.com")
    assert b"Host: " + default.host.encode() + b"\r\n" in default.request_head()

    monkeypatch.setenv(variable, "http://10.0.0.7:8080/proxy/")
    from_env = HttpEndpoint.of(protocol, base_url=None, api_key="k")
    assert (from_env.host, from_env.port, from_env.tls) == ("10.0.0.7", 8080, False)
    assert from_env.path.startswith("/proxy/")
    assert HttpEndpoint.of(protocol, base_url="http://other:1", api_key="k").host == "other"


@pytest.mark.parametrize("key", ["sk-1\r\nX-Injected: 1", "sk-1\nX: y", "sk\0"])
def test_a_key_that_would_inject_a_header_is_refused(key: str) -> None:
    with pytest.raises(ProviderRejected, match="line break or NUL"):
        HttpEndpoint.of(WireProtocol.OPENAI, base_url="http://h/v1", api_key=key)


@pytest.mark.parametrize("base", ["ftp://h/v1", "h:80/v1", "http:///v1"])
def test_a_base_url_that_is_not_http_is_refused(base: str) -> None:
    with pytest.raises(ProviderRejected, match="base URL"):
        HttpEndpoint.of(WireProtocol.OPENAI, base_url=base, api_key="k")
