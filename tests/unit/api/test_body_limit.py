"""The body-size and body-time guard in front of every route: over the limit is 413 whether announced or
streamed, a body that stops arriving is 408, and in both cases the route stores nothing."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from starlette.types import Message

from agentbatch.api.body_limit import BodyLimitMiddleware
from tests.unit.api.conftest import AppClient

LIMIT = 1_000


def _app(stored: list[bytes], read_timeout_s: float = 30.0) -> FastAPI:
    app = FastAPI()

    @app.post("/store")
    async def _store(request: Request) -> dict[str, int]:
        body = await request.body()
        stored.append(body)
        return {"bytes": len(body)}

    @app.get("/ping")
    async def _ping() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(BodyLimitMiddleware, max_bytes=LIMIT, read_timeout_s=read_timeout_s)
    return app


async def _chunks(size: int, chunk: int = 100) -> AsyncIterator[bytes]:
    for start in range(0, size, chunk):
        yield b"x" * min(chunk, size - start)


@pytest.mark.parametrize("size", [0, 1, LIMIT])
async def test_a_body_up_to_the_limit_reaches_the_route(client_of: AppClient, size: int) -> None:
    stored: list[bytes] = []
    response = await client_of(_app(stored)).post("/store", content=b"x" * size)
    assert response.status_code == 200 and response.json() == {"bytes": size}
    assert stored == [b"x" * size]


async def test_a_streamed_body_up_to_the_limit_reaches_the_route(client_of: AppClient) -> None:
    stored: list[bytes] = []
    response = await client_of(_app(stored)).post("/store", content=_chunks(LIMIT))
    assert response.status_code == 200 and stored == [b"x" * LIMIT]


async def test_a_declared_length_over_the_limit_is_413_before_anything_is_read(client_of: AppClient) -> None:
    stored: list[bytes] = []
    response = await client_of(_app(stored)).post("/store", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"request body is larger than the limit of {LIMIT} bytes; nothing was stored"
    }
    assert response.headers["connection"] == "close" and stored == []


async def test_a_streamed_body_over_the_limit_is_413_and_the_route_stores_nothing(
    client_of: AppClient,
) -> None:
    stored: list[bytes] = []
    response = await client_of(_app(stored)).post("/store", content=_chunks(LIMIT * 3))
    assert response.status_code == 413 and "nothing was stored" in response.json()["detail"]
    assert stored == []


async def test_a_request_without_a_body_is_untouched(client_of: AppClient) -> None:
    response = await client_of(_app([])).get("/ping")
    assert response.status_code == 200 and response.json() == {"ok": True}


async def _call(app: FastAPI, receive: Any) -> list[Message]:
    """Run one POST /store through ``app`` with ``receive``; the messages the server sent."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/store",
        "raw_path": b"/store",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"api.test"), (b"content-length", b"500")],
        "client": ("127.0.0.1", 1),
        "server": ("api.test", 80),
    }
    await app(scope, receive, send)
    return sent


async def test_a_body_that_stops_arriving_is_408_and_the_route_stores_nothing() -> None:
    stored: list[bytes] = []
    parts: list[Message] = [{"type": "http.request", "body": b"x" * 100, "more_body": True}]
    never = asyncio.Event()

    async def receive() -> Message:
        if parts:
            return parts.pop(0)
        await never.wait()  # the client went quiet mid-body
        raise AssertionError("unreachable")

    sent = await asyncio.wait_for(_call(_app(stored, read_timeout_s=0.05), receive), timeout=10)
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert [start["status"] for start in starts] == [408]
    assert (b"connection", b"close") in starts[0]["headers"]
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    assert b"did not arrive within 0.05 s; nothing was stored" in body
    assert stored == []


async def test_a_client_that_sends_in_time_is_not_cut_off() -> None:
    stored: list[bytes] = []
    parts: list[Message] = [
        {"type": "http.request", "body": b"a" * 250, "more_body": True},
        {"type": "http.request", "body": b"b" * 250, "more_body": False},
    ]

    async def receive() -> Message:
        return parts.pop(0) if parts else {"type": "http.disconnect"}

    sent = await _call(_app(stored, read_timeout_s=5), receive)
    assert sent[0]["status"] == 200 and stored == [b"a" * 250 + b"b" * 250]
