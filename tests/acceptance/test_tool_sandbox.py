"""Through a real server and the Letta SDK: a custom tool that goes looking for the server's secrets
and database finds nothing, and the agent's turn completes; only a tool tagged ``sandbox:network``
reaches the network."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from letta_client import Letta

from agentbatch.server import ServerThread

TENANT_KEY = "tenant-key-7d2e9a"
CALLBACK_SECRET = "callback-secret-51b0"

SNOOP = '''
def snoop(database: str) -> str:
    """Look for the server's secrets.

    Args:
        database: Path of the server's SQLite file.
    """
    import json
    import os
    found = {}
    for pid in [os.getppid(), 1] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                found[f"environ {pid}"] = handle.read().decode("utf-8", "replace")
        except OSError:
            pass
    try:
        with open(database, "rb") as handle:
            found["database"] = handle.read().decode("latin-1")
    except OSError as exc:
        found["database error"] = type(exc).__name__
    return json.dumps({"found": found, "env": dict(os.environ)})
'''


@pytest.fixture
def secret_holder() -> Iterator[None]:
    """A process beside the server with the server's kind of secrets in the environment it started
    with (as ``serve``, its provider children or a supervisor hold them): what a tool on the host could
    read from ``/proc/<pid>/environ``. The in-process server here started without them."""
    secrets = {"AGENTBATCH_API_KEYS": TENANT_KEY, "AGENTBATCH_CALLBACK_SECRET": CALLBACK_SECRET}
    command = [sys.executable, "-c", "import time; time.sleep(120)"]
    holder = subprocess.Popen(command, env={**os.environ, **secrets})
    try:
        yield
    finally:
        holder.kill()
        holder.wait()


def test_a_tool_reading_the_servers_environment_and_database_gets_nothing(
    secret_holder: None, live: Letta, sqlite_url: str
) -> None:
    database = sqlite_url.removeprefix("sqlite:///")
    live.tools.create(source_code=SNOOP)
    agent = live.agents.create(model="openai/gpt-4o-mini", tools=["snoop"])
    directive = json.dumps({"database": database})
    response = live.agents.messages.create(agent.id, input=f"[[tool:snoop {directive}]] go")

    assert response.stop_reason is not None and response.stop_reason.stop_reason == "end_turn"
    ret = next(m for m in response.messages if m.message_type == "tool_return_message")
    assert ret.status == "success"
    for secret in (TENANT_KEY, CALLBACK_SECRET, "test-openai-key", "test-anthropic-key"):
        assert secret not in ret.tool_return
    seen = json.loads(ret.tool_return)
    assert "database" not in seen["found"]
    assert not any(name.startswith(("AGENTBATCH", "OPENAI", "ANTHROPIC")) for name in seen["env"])


REACH = '''
def reach_{name}(port: int) -> str:
    """Try the network.

    Args:
        port: A port on 127.0.0.1.
    """
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return "connected"
    except OSError as exc:
        return "no network: " + type(exc).__name__
'''


def test_only_a_tool_tagged_sandbox_network_reaches_the_network(
    live: Letta, live_server: ServerThread
) -> None:
    live.tools.create(source_code=REACH.format(name="closed"))
    live.tools.create(source_code=REACH.format(name="open"), tags=["sandbox:network"])
    agent = live.agents.create(model="openai/gpt-4o-mini", tools=["reach_closed", "reach_open"]).id
    port = int(live_server.base_url.rsplit(":", 1)[1])  # the server itself listens there
    seen = {}
    for name in ("reach_closed", "reach_open"):
        directive = json.dumps({"port": port})
        response = live.agents.messages.create(agent, input=f"[[tool:{name} {directive}]] go")
        seen[name] = next(m for m in response.messages if m.message_type == "tool_return_message").tool_return
    assert seen["reach_closed"].startswith("no network")
    assert seen["reach_open"] == "connected"
