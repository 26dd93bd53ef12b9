"""One emulator per module, and each provider adapter in turn, built against it and closed afterwards."""

from collections.abc import AsyncIterator, Iterator

import pytest

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from tests.integration.providers.provider_harness import PROVIDERS, Provider, Subject


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorConfig()) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: EmulatorThread) -> None:
    """No attempts or statistics carried over from another test."""
    emulator.app.state.reset()


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> Provider:
    return PROVIDERS[request.param]


@pytest.fixture
async def subject(provider: Provider, emulator: EmulatorThread) -> AsyncIterator[Subject]:
    adapter = provider.build(emulator.base_url)
    try:
        yield Subject(provider, adapter, emulator)
    finally:
        await adapter.close()
