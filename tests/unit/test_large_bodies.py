"""A request with a large body is handled with the cyclic garbage collector paused, and only then."""

import gc

import pytest
from starlette.types import Message, Receive, Scope, Send

from agentbatch.api.large_bodies import LARGE_BODY_BYTES, LargeBodyMiddleware
from agentbatch.performance import collection_paused


def _scope(method: str, headers: dict[bytes, bytes]) -> Scope:
    return {"type": "http", "method": method, "headers": list(headers.items())}


async def _collecting_during(scope: Scope) -> bool:
    seen: list[bool] = []

    async def app(_scope: Scope, _receive: Receive, _send: Send) -> None:
        seen.append(gc.isenabled())

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(_message: Message) -> None:
        return None

    await LargeBodyMiddleware(app)(scope, receive, send)
    return seen[0]


@pytest.mark.parametrize(
    ("scope", "collecting"),
    [
        (_scope("POST", {b"content-length": str(LARGE_BODY_BYTES).encode()}), False),
        (_scope("POST", {b"transfer-encoding": b"chunked"}), False),
        (_scope("POST", {b"content-length": b"512"}), True),
        (_scope("GET", {}), True),
    ],
    ids=["announced 1 MiB", "streamed", "small", "no body"],
)
async def test_collection_is_paused_only_for_large_bodies(scope: Scope, collecting: bool) -> None:
    assert gc.isenabled()

    assert await _collecting_during(scope) is collecting

    assert gc.isenabled()  # back on once the response is sent


def test_overlapping_pauses_resume_collection_when_the_last_one_ends() -> None:
    first = collection_paused()
    first.__enter__()
    with collection_paused():  # a second large request, ended before the first
        pass
    assert not gc.isenabled()  # the first is still being handled

    first.__exit__(None, None, None)

    assert gc.isenabled()
