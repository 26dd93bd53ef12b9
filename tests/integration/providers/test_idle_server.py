"""An idle server holds no provider process and no provider SDK: they come with the first call."""

import os
from pathlib import Path

import httpx
import pytest

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from agentbatch.settings import Settings
from tests.support.live import point_sdks_at
from tests.support.polling import wait_for


def _children() -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found |= {int(pid) for pid in (task / "children").read_text().split()}
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_provider_processes_start_with_the_first_turn_not_with_the_server(
    sqlite_url: str, emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, emulator)
    before = _children()
    with ServerThread(Settings(database_url=sqlite_url, provider_processes=2)) as server:
        assert _children() == before  # ready, idle: no provider process

        agent = httpx.post(f"{server.base_url}/v1/agents/", json={"model": "openai/m"}).json()
        reply = httpx.post(
            f"{server.base_url}/v1/agents/{agent['id']}/messages",
            json={"messages": [{"role": "user", "content": "hi"}]},
            timeout=60,
        )

        assert reply.status_code == 200
        wait_for(lambda: len(_children() - before) == 2, timeout=10, what="two provider processes")
