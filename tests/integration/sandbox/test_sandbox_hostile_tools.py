"""Hostile tools: each escape a custom tool could try, and the proof that the sandbox holds.

Every test here failed against the plain-subprocess sandbox (same uid as the server, same PID and
network namespaces, the whole filesystem visible): that is what bubblewrap's namespaces and the
per-call unprivileged uid change.
"""

import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentbatch.runtime.tools.sandbox import SandboxIsolation, SandboxLimits, ToolSandbox
from tests.integration.sandbox.host_view import (
    READ_NAMESPACE,
    exists_on_host,
    new_marker,
    pid_namespace_alive,
)

SECRET = "sk-hostile-test-secret-4f1c"


@pytest.fixture
def hostile() -> ToolSandbox:
    return ToolSandbox(
        SandboxLimits(timeout_s=5.0, memory_mb=256), isolation=SandboxIsolation(max_processes=16)
    )


@pytest.fixture
def secret_holder() -> Iterator[int]:
    """A process holding a secret in its environment, as the server and its provider children do."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], env={**os.environ, "PROVIDER_KEY": SECRET}
    )
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


async def test_no_process_environment_of_the_server_can_be_read(
    hostile: ToolSandbox, secret_holder: int
) -> None:
    source = (
        "import os\n"
        "def f(pids):\n"
        "    found = {}\n"
        "    candidates = set(pids) | {os.getppid()} | {int(p) for p in os.listdir('/proc') if p.isdigit()}\n"
        "    for pid in sorted(candidates):\n"
        "        try:\n"
        "            with open(f'/proc/{pid}/environ', 'rb') as handle:\n"
        "                found[pid] = handle.read().decode('utf-8', 'replace')\n"
        "        except OSError:\n"
        "            pass\n"
        "    return found\n"
    )
    result = await hostile.run(source, "f", {"pids": [secret_holder, os.getpid(), os.getppid(), 1]})
    assert result.status == "success"
    assert SECRET not in result.return_value
    # What it could read at all is its own sandbox: none of the host's pids is even there.
    assert "PROVIDER_KEY" not in result.return_value and "PYTEST" not in result.return_value


async def test_the_database_file_can_be_neither_read_nor_written(
    hostile: ToolSandbox, tmp_path: Path
) -> None:
    database = tmp_path / "agentbatch.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE blocks (value TEXT)")
        connection.execute("INSERT INTO blocks VALUES ('tenant memory')")
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    source = (
        "def f(path):\n"
        "    seen = {}\n"
        "    try:\n"
        "        with open(path, 'rb') as handle:\n"
        "            seen['read'] = handle.read().decode('latin-1')\n"
        "    except OSError as exc:\n"
        "        seen['read_error'] = type(exc).__name__\n"
        "    try:\n"
        "        with open(path, 'ab') as handle:\n"
        "            handle.write(b'owned')\n"
        "        seen['wrote'] = True\n"
        "    except OSError as exc:\n"
        "        seen['write_error'] = type(exc).__name__\n"
        "    return seen\n"
    )
    result = await hostile.run(source, "f", {"path": str(database)})
    seen = json.loads(result.return_value)
    assert "read" not in seen and "wrote" not in seen
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT value FROM blocks").fetchall() == [("tenant memory",)]


async def test_the_servers_working_directory_is_not_there(hostile: ToolSandbox) -> None:
    cwd = os.getcwd()
    source = (
        "import os\n"
        "def f(cwd):\n"
        "    return {'pyproject': os.path.exists(cwd + '/pyproject.toml'),\n"
        "            'src': os.path.exists(cwd + '/src'),\n"
        "            'listing': os.listdir(cwd) if os.path.isdir(cwd) else []}\n"
    )
    seen = json.loads((await hostile.run(source, "f", {"cwd": cwd})).return_value)
    assert not seen["pyproject"] and not seen["src"]
    # At most the way to the server's virtualenv (bound read-only so tools keep their packages).
    venv_path = sys.prefix.removeprefix(cwd + "/").split("/")[0] if sys.prefix.startswith(cwd + "/") else None
    assert set(seen["listing"]) <= {venv_path}


async def test_nothing_outside_the_scratch_directory_can_be_written(
    hostile: ToolSandbox, tmp_path: Path
) -> None:
    marker = new_marker()
    host_tmp = Path(tempfile.gettempdir()) / marker
    targets = [str(tmp_path / marker), str(host_tmp), f"/usr/{marker}", f"/etc/{marker}", f"/{marker}"]
    targets += [f"{sys.base_prefix}/{marker}", f"/proc/{marker}", f"/dev/{marker}"]
    source = (
        "def f(targets):\n"
        "    written = []\n"
        "    for target in targets:\n"
        "        try:\n"
        "            with open(target, 'w') as handle:\n"
        "                handle.write('escaped')\n"
        "            written.append(target)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return written\n"
    )
    result = await hostile.run(source, "f", {"targets": targets})
    written = json.loads(result.return_value)
    # Only the private /tmp of the call took a file (the host's /tmp is another directory).
    assert set(written) <= {str(host_tmp), f"/dev/{marker}"}
    for target in targets:
        assert not exists_on_host(target), target


async def test_no_process_outside_the_sandbox_is_visible(hostile: ToolSandbox, secret_holder: int) -> None:
    source = (
        "import os\n"
        "def f():\n"
        "    seen = {}\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if pid.isdigit():\n"
        "            try:\n"
        "                with open(f'/proc/{pid}/cmdline', 'rb') as handle:\n"
        "                    seen[pid] = handle.read().split(b'\\0')[0].decode()\n"
        "            except OSError:\n"
        "                seen[pid] = '?'\n"
        "    return seen\n"
    )
    result = await hostile.run(source, "f", {})
    seen = json.loads(result.return_value)
    assert sorted(seen) == ["1", "2"], seen  # the bootstrap's reaper and the tool: nothing else
    assert all(os.path.basename(command).startswith("python") for command in seen.values()), seen


async def _one_connection_server() -> tuple[asyncio.Server, int, list[bytes]]:
    received: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(100))
        writer.write(b"hello from the host")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], received


CONNECT = (
    "import socket\n"
    "def f(port):\n"
    "    try:\n"
    "        with socket.create_connection(('127.0.0.1', port), timeout=2) as sock:\n"
    "            sock.sendall(b'ping')\n"
    "            return 'connected: ' + sock.recv(100).decode()\n"
    "    except OSError as exc:\n"
    "        return 'refused: ' + type(exc).__name__\n"
)


async def test_a_tool_without_the_network_declaration_reaches_no_host_port(hostile: ToolSandbox) -> None:
    server, port, received = await _one_connection_server()
    async with server:
        result = await hostile.run(CONNECT, "f", {"port": port})
    assert result.return_value.startswith("refused"), result
    assert received == []


async def test_a_tool_declared_to_need_the_network_reaches_it(hostile: ToolSandbox) -> None:
    server, port, received = await _one_connection_server()
    async with server:
        result = await hostile.run(CONNECT, "f", {"port": port}, network=True)
    assert result.return_value == "connected: hello from the host", result
    assert received == [b"ping"]


async def test_a_double_forked_setsid_process_does_not_outlive_the_call(hostile: ToolSandbox) -> None:
    source = (
        "import os, time\n"
        "def f():\n"
        "    read_end, write_end = os.pipe()\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            os.closerange(0, 3)\n"  # let go of the output pipes: nothing ties it to the call
        f"            os.write(write_end, ({READ_NAMESPACE} + ' ' + str(os.getpid())).encode())\n"
        "            time.sleep(1000)\n"
        "        os._exit(0)\n"
        "    os.close(write_end)\n"
        "    return os.read(read_end, 100).decode()\n"
    )
    result = await hostile.run(source, "f", {})
    assert result.status == "success", result
    namespace, _ = result.return_value.split()
    assert not pid_namespace_alive(namespace)  # at once: the namespace died with the call


async def test_a_fork_bomb_is_bounded_and_the_host_keeps_working(hostile: ToolSandbox) -> None:
    counting = (
        "import os, time\n"
        "def f():\n"
        "    started = 0\n"
        "    for _ in range(300):\n"
        "        try:\n"
        "            if os.fork() == 0:\n"
        "                time.sleep(30)\n"
        "                os._exit(0)\n"
        "        except OSError:\n"
        "            break\n"
        "        started += 1\n"
        "    return started\n"
    )
    result = await hostile.run(counting, "f", {})
    assert result.status == "success", result
    assert int(result.return_value) < 16  # max_processes, bwrap's init and the tool included

    bomb = (
        "import os, time\n"
        "def f():\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "        except OSError:\n"
        "            time.sleep(0.05)\n"
    )
    fast = ToolSandbox(SandboxLimits(timeout_s=1.5), isolation=SandboxIsolation(max_processes=16))
    started = time.monotonic()
    bombing = asyncio.create_task(fast.run(bomb, "f", {}))
    quiet = await hostile.run("def f():\n    return 'still here'\n", "f", {})  # another call meanwhile
    assert quiet.return_value == "still here"
    assert (await bombing).return_value == "tool timed out after 1.5 s"
    assert time.monotonic() - started < 5.0
    helper = await asyncio.create_subprocess_exec("true")  # the host can still start processes
    assert await helper.wait() == 0


async def test_a_memory_hog_in_many_processes_is_bounded() -> None:
    limits = SandboxLimits(timeout_s=20.0, memory_mb=64)
    small = ToolSandbox(limits, isolation=SandboxIsolation(max_processes=16))
    source = (
        "import os, time\n"
        "def f():\n"
        "    read_end, write_end = os.pipe()\n"
        "    children = 0\n"
        "    for _ in range(60):\n"
        "        try:\n"
        "            pid = os.fork()\n"
        "        except OSError:\n"
        "            break\n"
        "        if pid == 0:\n"
        "            hog = []\n"
        "            try:\n"
        "                while True:\n"
        "                    hog.append(b'x' * (8 * 1024 * 1024))\n"
        "            except MemoryError:\n"
        "                os.write(write_end, b'.')\n"  # holding all it could get, until killed
        "                time.sleep(60)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "    full = b''\n"
        "    while len(full) < children:\n"
        "        full += os.read(read_end, 100)\n"
        "    return children\n"
    )
    result = await small.run(source, "f", {})
    assert result.status == "success", result
    # At most 16 processes of at most 64 MB each hold memory at once, not 60: and none outlives the call.
    assert int(result.return_value) < 16
