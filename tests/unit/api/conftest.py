"""A client for a small application made of the api layer's parts, with no database behind it."""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

AppClient = Callable[[FastAPI], httpx.AsyncClient]


@pytest.fixture
async def client_of() -> AsyncIterator[AppClient]:
    """``client_of(app)``: an HTTP client that calls ``app`` in-process; closed after the test."""
    opened: list[httpx.AsyncClient] = []

    def open_client(app: FastAPI) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        await client.aclose()
