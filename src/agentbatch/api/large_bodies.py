"""Requests with a large body run with the cyclic garbage collector paused (``performance.py``, 4).

A large body is one announced at 1 MiB or more, or streamed without a length (the CLI's JSONL submit):
building a big batch makes hundreds of thousands of objects that all live until they are stored, and
collections while they are built only walk them again. The pause ends with the response.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from agentbatch.performance import collection_paused

LARGE_BODY_BYTES = 1 << 20


def is_large(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
        return False
    headers: dict[bytes, bytes] = dict(scope["headers"])
    declared = headers.get(b"content-length")
    if declared is None:
        return headers.get(b"transfer-encoding", b"").lower() == b"chunked"
    return declared.isdigit() and int(declared) >= LARGE_BODY_BYTES


class LargeBodyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_large(scope):
            await self.app(scope, receive, send)
            return
        with collection_paused():
            await self.app(scope, receive, send)
