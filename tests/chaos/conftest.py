"""Chaos tests run agentbatch as separate processes against one emulator in this process."""

from collections.abc import Iterator

import pytest

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorConfig(batch_delay_s=0.2)) as running:
        yield running
