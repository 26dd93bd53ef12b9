"""A real ``agentbatch serve`` process pointed at the session's emulator, for operator-facing tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from tests.support.live import sdk_environment
from tests.support.polling import wait_for
from tests.support.processes import AgentbatchProcess, free_port


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorConfig(batch_delay_s=0.2)) as running:
        yield running


class PatientProcess(AgentbatchProcess):
    """Waits up to three minutes for the port: on a loaded 2-core machine imports alone can take a minute."""

    def start(self) -> "PatientProcess":
        port, self.port = self.port, None
        super().start()
        self.port = port
        wait_for(self._healthy, timeout=180, what=f"{self.args[0]} to answer on port {port}")
        return self


def serve_process(
    tmp_path: Path, emulator: EmulatorThread, *, log_format: str = "kv", **env: str
) -> "PatientProcess":
    return PatientProcess(
        ["serve", "--port", str(port := free_port())],
        {
            **sdk_environment(emulator),
            "AGENTBATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'agentbatch.db'}",
            "AGENTBATCH_PROVIDER_PROCESSES": "0",
            "AGENTBATCH_CLAIM_POLL_S": "0.05",
            "AGENTBATCH_LLM_MAX_ATTEMPTS": "1",
            "AGENTBATCH_CALLBACK_BACKOFF_BASE_S": "0.05",
            "AGENTBATCH_LOG_FORMAT": log_format,
            **env,
        },
        tmp_path / "serve.log",
        port=port,
    )
