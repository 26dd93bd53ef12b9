"""Guard the reading of request bodies: over the size limit is 413 (announced by Content-Length or
streamed), and a client that stops sending mid-body gets 408 and a closed connection after the read
timeout instead of holding its connection (and a server task) forever."""

import asyncio

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout_s: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _reject(send, 413, f"request body is larger than the limit of {self.max_bytes} bytes")
            return
        received = 0
        body_done = False
        rejected = False

        async def guarded_receive() -> Message:
            nonlocal received, rejected, body_done
            if body_done or rejected:
                return await receive()
            try:
                async with asyncio.timeout(self.read_timeout_s):  # not wait_for: see engine/wake_waits.py
                    message = await receive()
            except TimeoutError:
                # Answer now and tell the app the client left, so it stops reading and stores nothing.
                rejected = True
                detail = f"the request body did not arrive within {self.read_timeout_s:g} s"
                await _reject(send, 408, detail)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request":
                return message
            body_done = not message.get("more_body", False)
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                rejected = True
                await _reject(send, 413, f"request body is larger than the limit of {self.max_bytes} bytes")
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not rejected:
                await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if not rejected:
                raise


async def _reject(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": f"{detail}; nothing was stored"})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body may still be on its way: close rather than read it as a request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
