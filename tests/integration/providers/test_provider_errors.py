"""Failures from either adapter surface as ``ProviderError``s, never as SDK exceptions, and unretried."""

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import orjson
import pytest

from agentbatch.providers.base import ModelRequest
from agentbatch.providers.errors import (
    InvalidResponse,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from tests.integration.providers.provider_harness import Provider, Subject
from tests.integration.providers.provider_wire_rules import user

RETRY_AFTER_S = 0.2  # the emulator's default retry-after-ms: 200, preferred over retry-after: 1


def request(text: str, model: str = "test-model") -> ModelRequest:
    return ModelRequest(model=model, system="Be brief.", messages=[user(text)])


def assert_ours(error: BaseException) -> None:
    """An error of our tree (the SDK's exception, if any, is only its cause)."""
    assert type(error).__module__ == "agentbatch.providers.errors"


async def test_a_rate_limit_is_rate_limited_with_the_retry_after_header(subject: Subject) -> None:
    with pytest.raises(RateLimited) as caught:
        await subject.adapter.complete(request("hi [[error:429:always]]"))

    assert_ours(caught.value)
    assert (caught.value.status, caught.value.retryable) == (429, True)
    assert caught.value.retry_after == pytest.approx(RETRY_AFTER_S)
    assert subject.seen(429) == 1  # the adapter did not retry


@pytest.mark.parametrize(
    ("status", "kind", "retry_after"),
    [
        (500, ProviderUnavailable, None),
        (503, ProviderUnavailable, RETRY_AFTER_S),
        (529, ProviderUnavailable, RETRY_AFTER_S),
        (400, ProviderRejected, None),
        (401, ProviderRejected, None),
        (404, ProviderRejected, None),
    ],
)
async def test_http_errors_map_into_the_provider_error_tree(
    subject: Subject, status: int, kind: type[ProviderError], retry_after: float | None
) -> None:
    with pytest.raises(ProviderError) as caught:
        await subject.adapter.complete(request(f"hi [[error:{status}:always]]"))

    error = caught.value
    assert type(error) is kind
    assert (error.status, error.retryable) == (status, kind is ProviderUnavailable)
    assert error.retry_after == (pytest.approx(retry_after) if retry_after else None)
    assert subject.seen(status) == 1


async def test_an_invalid_request_body_is_rejected(subject: Subject) -> None:
    with pytest.raises(ProviderRejected) as caught:
        await subject.adapter.complete(request("hi [[error:42]]"))  # a malformed directive: a 400

    assert caught.value.status == 400
    assert "malformed emulator directive" in str(caught.value)


async def test_the_adapter_does_not_retry_a_transient_failure(subject: Subject) -> None:
    once = request("hi [[error:500:1]]")

    with pytest.raises(ProviderUnavailable):
        await subject.adapter.complete(once)
    assert (subject.seen(500), subject.seen(200)) == (1, 0)

    reply = await subject.adapter.complete(once)  # the caller's retry is the emulator's second attempt
    assert reply.text == "echo: hi"
    assert (subject.seen(500), subject.seen(200)) == (1, 1)


async def test_nothing_listening_is_provider_unavailable(provider: Provider) -> None:
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))  # bound but never listening: every connection is refused
        adapter = provider.build(f"http://127.0.0.1:{bound.getsockname()[1]}")
        try:
            with pytest.raises(ProviderUnavailable) as caught:
                await adapter.complete(request("hi"))
        finally:
            await adapter.close()

    assert_ours(caught.value)
    assert caught.value.status is None


class _Misbehaving(BaseHTTPRequestHandler):
    """Answers every POST with a 200 whose body is chosen by the request's model name."""

    replies: ClassVar[dict[str, tuple[bytes, str]]] = {
        "not-json": (b"<html><body>Sign in to the Wi-Fi</body></html>", "text/html"),
        "not-a-reply": (b'{"object": "list", "data": []}', "application/json"),
    }

    def do_POST(self) -> None:
        body = orjson.loads(self.rfile.read(int(self.headers["content-length"])))
        payload, content_type = self.replies[body["model"]]
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def misbehaving_server() -> Iterator[str]:
    """A server that answers 200 with something that is not a chat completion or message."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_a_200_that_is_not_a_reply_is_an_invalid_response(
    provider: Provider, misbehaving_server: str
) -> None:
    adapter = provider.build(misbehaving_server)
    try:
        with pytest.raises(InvalidResponse) as caught:
            await adapter.complete(request("hi", model="not-a-reply"))
    finally:
        await adapter.close()

    assert caught.value.retryable is False


async def test_a_200_that_is_not_json_is_an_invalid_response(
    provider: Provider, misbehaving_server: str
) -> None:
    adapter = provider.build(misbehaving_server)
    try:
        with pytest.raises(InvalidResponse):
            await adapter.complete(request("hi", model="not-json"))
    finally:
        await adapter.close()
