"""The two model endpoints as bare ASGI handlers: read the body, respond, send. Nothing else.

They bypass Starlette's routing, request and response objects because they take nearly all the
traffic in a benchmark, where every microsecond of the emulator's CPU is taken from the server
under test.
"""

import asyncio

import orjson
from starlette.types import Receive, Scope, Send

from agentbatch.emulator.attempts import RequestStats
from agentbatch.emulator.responder import Responder

_JSON_HEADER = (b"content-type", b"application/json")


class ModelEndpoint:
    """``POST /v1/chat/completions`` or ``POST /v1/messages``."""

    def __init__(self, endpoint: str, responder: Responder, stats: RequestStats) -> None:
        self.endpoint = endpoint
        self.responder = responder
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await read_body(receive)
        if raw is None:
            return
        outcome = self.responder.respond(raw)
        self.stats.record(self.endpoint, outcome.status)
        self.stats.started()
        try:
            if outcome.delay_s > 0:
                await asyncio.sleep(outcome.delay_s)
            payload = orjson.dumps(outcome.body)
            headers = [_JSON_HEADER, (b"content-length", str(len(payload)).encode())]
            headers.extend((name.encode(), value.encode()) for name, value in outcome.headers.items())
            await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
        finally:
            self.stats.finished()


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client went away before sending it."""
    message = await receive()
    if message["type"] != "http.request":
        return None
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
