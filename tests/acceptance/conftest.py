"""A real agentbatch server on a socket, driven by the official Letta SDK (letta-client 1.7.0)."""

from collections.abc import Iterator

import pytest
from letta_client import Letta

from agentbatch.server import ServerThread
from agentbatch.settings import Settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The API alone: no worker picks batches up, so what the API stored can be checked as stored."""
    return Settings(database_url=database_url, run_worker=False)


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerThread]:
    with ServerThread(settings) as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Letta:
    # Strict: a missing required field or a wrong type in any response fails the test.
    return Letta(base_url=server.base_url, max_retries=0, _strict_response_validation=True)
