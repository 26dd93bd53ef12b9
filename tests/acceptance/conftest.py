"""A real agentbatch server on a socket, driven by the official Letta SDK (letta-client 1.7.0)."""

from collections.abc import Iterator

import pytest
from letta_client import Letta

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from agentbatch.settings import Settings
from tests.support.live import point_sdks_at


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The API alone: no worker picks batches up, so what the API stored can be checked as stored."""
    return Settings(database_url=database_url, run_worker=False, provider_processes=0)


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerThread]:
    with ServerThread(settings) as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Letta:
    # Strict: a missing required field or a wrong type in any response fails the test.
    return Letta(base_url=server.base_url, max_retries=0, _strict_response_validation=True)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorConfig(batch_delay_s=0.2)) as running:
        yield running


@pytest.fixture
def fresh_emulator(emulator: EmulatorThread) -> EmulatorThread:
    """The emulator with its attempt counters and statistics forgotten."""
    emulator.app.state.reset()
    return emulator


def live_settings(database_url: str, **overrides: object) -> Settings:
    """Quick backoffs and short timeouts, so failure paths are exercised in milliseconds."""
    values: dict[str, object] = {
        "database_url": database_url,
        "llm_retry_budget_s": 0.3,
        "llm_backoff_base_s": 0.01,
        "llm_backoff_max_s": 0.05,
        "tool_timeout_s": 3.0,
        "lease_seconds": 6.0,
        "claim_poll_s": 0.05,
        "callback_backoff_base_s": 0.05,
        "callback_timeout_s": 2.0,
        "provider_processes": 0,  # SDK calls in-process here; tests/integration/providers covers the pool
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def live_server(
    sqlite_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerThread]:
    """API + worker on SQLite, its providers pointed at the emulator."""
    point_sdks_at(monkeypatch, fresh_emulator)
    with ServerThread(live_settings(sqlite_url)) as running:
        yield running


@pytest.fixture
def live_on_each_database(
    database_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Letta]:
    """API + worker on each database (SQLite, and PostgreSQL where reachable), its providers pointed at
    the emulator; the SDK strict about every response."""
    point_sdks_at(monkeypatch, fresh_emulator)
    with ServerThread(live_settings(database_url)) as running:
        yield Letta(base_url=running.base_url, max_retries=0, _strict_response_validation=True)


@pytest.fixture
def live(live_server: ServerThread) -> Letta:
    return Letta(base_url=live_server.base_url, max_retries=0, _strict_response_validation=True)
