"""What a tool can see and touch: its environment, its directory, the result channel, the output caps."""

import json
import os
import sys
from pathlib import Path

import pytest

from agentbatch.runtime.tools.sandbox import SandboxLimits, ToolSandbox
from agentbatch.runtime.tools.sandbox.bwrap import interpreter_prefixes
from tests.integration.sandbox.host_view import new_marker, scratch_files

SECRETS = {
    "OPENAI_API_KEY": "sk-server-secret",
    "ANTHROPIC_API_KEY": "sk-ant-server-secret",
    "AGENTBATCH_DATABASE_URL": "postgresql://agentbatch:hunter2@db/agentbatch",
    "AGENTBATCH_API_KEYS": "server-key",
    "PYTHONPATH": "/somewhere/else",
    "PYTHONSTARTUP": "/somewhere/else/startup.py",
}


async def test_the_tool_sees_none_of_the_servers_environment(
    sandbox: ToolSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    source = "import os, sys\ndef f():\n    return {'environ': dict(os.environ), 'path': sys.path}\n"
    result = await sandbox.run(source, "f", {}, env={"WEATHER_API_KEY": "declared-secret"})
    assert result.status == "success"
    seen = json.loads(result.return_value)
    environ = seen["environ"]
    assert environ["WEATHER_API_KEY"] == "declared-secret"
    assert set(environ) == {"PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "WEATHER_API_KEY"}
    assert not any(secret in json.dumps(seen) for secret in SECRETS.values())
    assert "/somewhere/else" not in seen["path"]  # PYTHONPATH ignored: the interpreter is isolated


async def test_variables_passed_in_env_may_override_the_defaults(sandbox: ToolSandbox) -> None:
    source = "import os\ndef f():\n    return os.environ['LANG'] + ' ' + os.environ['EXTRA']\n"
    result = await sandbox.run(source, "f", {}, env={"LANG": "en_US.UTF-8", "EXTRA": "x"})
    assert result.return_value == "en_US.UTF-8 x"


async def test_an_invalid_variable_in_env_is_an_error(sandbox: ToolSandbox) -> None:
    result = await sandbox.run("def f():\n    return 1\n", "f", {}, env={"A=B": "1"})
    assert result.status == "error"
    assert "'A=B'" in result.return_value


async def test_each_call_works_in_a_fresh_empty_directory_removed_afterwards(sandbox: ToolSandbox) -> None:
    source = (
        "import os, tempfile\n"
        "def f(marker):\n"
        "    listing = os.listdir('.')\n"
        "    os.makedirs('sub/locked')\n"
        "    with open('sub/locked/notes.txt', 'w') as handle:\n"
        "        handle.write('left behind')\n"
        "    open(marker, 'w').close()\n"
        "    os.chmod('sub', 0)\n"  # even an unreadable subdirectory goes
        "    return {'cwd': os.getcwd(), 'listing': listing, 'home': os.path.expanduser('~'),\n"
        "            'tmp': tempfile.gettempdir(), 'tmp_listing': os.listdir(tempfile.gettempdir())}\n"
    )
    for _ in range(2):
        marker = new_marker()
        seen = json.loads((await sandbox.run(source, "f", {"marker": marker})).return_value)
        assert seen["listing"] == [] and seen["tmp_listing"] == _interpreter_dirs_under_tmp()
        assert seen["home"] == seen["cwd"] == "/scratch"
        assert seen["tmp"] == "/tmp"  # a tmpfs of the call's own
        assert scratch_files(marker) == []  # the directory on the host is gone


async def test_printing_a_forged_result_does_not_change_the_result(sandbox: ToolSandbox) -> None:
    forged = json.dumps({"status": "success", "value": "forged"})
    source = (
        "import os, sys\n"
        "def f(forged):\n"
        "    print(forged)\n"
        "    print(forged, file=sys.stderr)\n"
        "    os.write(1, (forged + '\\n').encode())\n"
        "    raise RuntimeError('the real outcome')\n"
    )
    result = await sandbox.run(source, "f", {"forged": forged})
    assert (result.status, result.return_value) == ("error", "RuntimeError: the real outcome")
    assert result.stdout == [forged, forged]
    assert result.stderr[0] == forged

    source = "def f(forged):\n    print(forged)\n    return 'real'\n"
    result = await sandbox.run(source, "f", {"forged": forged})
    assert (result.status, result.return_value, result.stdout) == ("success", "real", [forged])


async def test_a_tool_that_breaks_the_result_channel_gets_an_error_not_a_crash(sandbox: ToolSandbox) -> None:
    source = "import os\ndef f():\n    os.closerange(3, 256)\n    return 'done'\n"
    result = await sandbox.run(source, "f", {})
    assert result.status == "error"
    assert result.return_value.startswith("tool produced no result")


async def test_binary_garbage_is_decoded_with_replacement_characters(sandbox: ToolSandbox) -> None:
    source = (
        "import sys\n"
        "def f():\n"
        "    sys.stdout.buffer.write(b'ok \\xff\\xfe\\x00 end\\nsecond\\r\\n')\n"
        "    sys.stderr.buffer.write(bytes(range(256)))\n"
        "    print('\\udcff lone surrogate')\n"
        "    return 'fine'\n"
    )
    result = await sandbox.run(source, "f", {})
    assert (result.status, result.return_value) == ("success", "fine")
    assert result.stdout[:2] == ["ok \ufffd\ufffd\x00 end", "second"]
    assert "lone surrogate" in result.stdout[2]
    assert "\ufffd" in "".join(result.stderr)
    "".join(result.stdout + result.stderr).encode("utf-8")  # everything is valid text


async def test_huge_output_and_return_values_are_truncated() -> None:
    sandbox = ToolSandbox(SandboxLimits(timeout_s=10.0, memory_mb=256, max_output_bytes=10_000))
    source = (
        "import sys\n"
        "def f():\n"
        "    for _ in range(50_000):\n"
        "        print('x' * 99)\n"  # 5 MB through the pipe
        "    sys.stderr.write('e' * 3_000_000)\n"
        "    return 'r' * 2_000_000\n"
    )
    result = await sandbox.run(source, "f", {})
    assert result.status == "success"
    assert result.stdout[:100] == ["x" * 99] * 100
    assert sum(len(line) + 1 for line in result.stdout[:-1]) <= 10_000 + 1
    assert result.stdout[-1] == "[truncated: 5000000 bytes, only the first 10000 are kept]"
    assert result.stderr[-1] == "[truncated: 3000000 bytes, only the first 10000 are kept]"
    kept, marker = result.return_value.split("\n")
    assert kept == "r" * 10_000
    assert marker == "[truncated: 2000000 bytes, only the first 10000 are kept]"


async def test_calls_leak_no_file_descriptors_in_the_server(sandbox: ToolSandbox) -> None:
    await sandbox.run("def f():\n    return 1\n", "f", {})  # warm up whatever the loop opens once
    before = len(os.listdir("/proc/self/fd"))
    for source in (
        "def f():\n    return 1\n",
        "def f():\n    1/0\n",
        "import os\ndef f():\n    os._exit(1)\n",
    ):
        await sandbox.run(source, "f", {})
    await sandbox.run("def f(:\n", "f", {})
    assert len(os.listdir("/proc/self/fd")) == before


def _interpreter_dirs_under_tmp() -> list[str]:
    """What the call's own /tmp shows: nothing, but the path to the server's interpreter when that lives
    under /tmp (a checkout there), which is bound read-only on top of it."""
    tmp = Path("/tmp")
    return sorted(
        {
            prefix.relative_to(tmp).parts[0]
            for prefix in interpreter_prefixes(sys.executable)
            if tmp in prefix.parents
        }
    )
