"""An idle server's provider processes are running but hold no provider SDK: it comes with a call."""

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


def _holds_an_sdk(pid: int) -> bool:
    """Both SDKs build on pydantic: its compiled core mapped in means an SDK was imported."""
    return "pydantic_core" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_provider_processes_start_with_the_server_and_load_an_sdk_with_the_first_call(
    sqlite_url: str, emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, emulator)
    before = _children()
    with ServerThread(
        Settings(database_url=sqlite_url, provider_transport="sdk", provider_processes=2)
    ) as server:
        children = wait_for(
            lambda: found if len(found := _children() - before) == 2 else None,
            timeout=10,
            what="two provider processes started after the server was ready",
        )
        assert not any(_holds_an_sdk(pid) for pid in children)  # idle: no SDK in them

        base = f"{server.base_url}/v1"
        agent = httpx.post(f"{base}/agents/", json={"model": "openai/m"}).json()
        batch = httpx.post(
            f"{base}/messages/batches",
            json={"requests": [{"agent_id": agent["id"], "input": "hi"}]},
        ).json()

        wait_for(
            lambda: httpx.get(f"{base}/messages/batches/{batch['id']}").json()["status"] == "completed",
            what="the batch to complete",
        )
        assert _children() - before == children  # the same processes ran it
        assert any(_holds_an_sdk(pid) for pid in children)  # the call loaded it
