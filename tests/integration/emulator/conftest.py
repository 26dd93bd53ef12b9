"""Fixtures for the emulator's tests: one running emulator per session, official SDK clients per test."""

from collections.abc import AsyncIterator, Iterator

import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from tests.integration.emulator.emulator_helpers import BATCH_DELAY_S


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorConfig(batch_delay_s=BATCH_DELAY_S)) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_emulator_state(emulator: EmulatorThread) -> None:
    """Each test starts with no attempts, statistics, files or batches remembered."""
    emulator.app.state.reset()


@pytest.fixture
async def openai_client(emulator: EmulatorThread) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=f"{emulator.base_url}/v1", api_key="test-key", max_retries=0) as client:
        yield client


@pytest.fixture
async def anthropic_client(emulator: EmulatorThread) -> AsyncIterator[AsyncAnthropic]:
    async with AsyncAnthropic(base_url=emulator.base_url, api_key="test-key", max_retries=0) as client:
        yield client


@pytest.fixture(scope="session")
def steady_emulator() -> Iterator[EmulatorThread]:
    """An emulator whose batches stay in progress for a whole second, long enough to be observed
    in that state however loaded the machine is."""
    with EmulatorThread(EmulatorConfig(batch_delay_s=1.0)) as running:
        yield running
