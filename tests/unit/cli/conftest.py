"""A scripted stand-in for the agentbatch server, for the client commands: it records each request and
answers from a table of handlers."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from agentbatch.cli import batches

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeServer:
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def answer(self, method: str, path: str, status: int = 200, json: Any = None) -> None:
        self.routes[(method, path)] = lambda _request: httpx.Response(status, json=json)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        self.bodies.append(request.read())
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"detail": f"No route for {request.method} {request.url.path}"})
        return handler(request)

    def client(self, base_url: str = "http://server.test") -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), base_url=base_url)


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    """The ``batches`` commands talk to this instead of a real server."""
    server = FakeServer()
    monkeypatch.setattr(batches, "connect", lambda *_args, **_kwargs: server.client())
    return server
