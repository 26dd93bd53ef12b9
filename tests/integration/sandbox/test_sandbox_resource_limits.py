"""The resource limits the child runs under, and what a tool that exceeds them gets back."""

import json
import resource

from agentbatch.runtime.tools.sandbox import SandboxLimits, ToolSandbox

MIB = 1024 * 1024


async def test_the_limits_are_in_place_before_the_tool_runs(sandbox: ToolSandbox) -> None:
    source = (
        "import resource\n"
        "def f():\n"
        "    names = ['RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_NOFILE', 'RLIMIT_FSIZE', 'RLIMIT_CORE']\n"
        "    return {name: resource.getrlimit(getattr(resource, name)) for name in names}\n"
    )
    result = await sandbox.run(source, "f", {})
    limits = json.loads(result.return_value)
    assert limits["RLIMIT_AS"] == [256 * MIB, 256 * MIB]
    soft_cpu, hard_cpu = limits["RLIMIT_CPU"]
    assert 10 < soft_cpu < hard_cpu <= 20  # just past the 10 s timeout
    assert limits["RLIMIT_NOFILE"][1] <= 1024
    assert limits["RLIMIT_FSIZE"][1] != resource.RLIM_INFINITY
    assert limits["RLIMIT_CORE"] == [0, 0]


async def test_a_tool_cannot_raise_its_limits_back(sandbox: ToolSandbox) -> None:
    source = (
        "import resource\n"
        "def f():\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
    )
    result = await sandbox.run(source, "f", {})
    assert result.status == "error"
    assert result.return_value.startswith("ValueError")


async def test_one_huge_allocation_is_an_out_of_memory_error(sandbox: ToolSandbox) -> None:
    result = await sandbox.run("def f():\n    return len(bytearray(8 * 1024**3))\n", "f", {})
    assert result.status == "error"
    assert result.return_value == "MemoryError: the tool ran out of memory (limit 256 MB)"


async def test_memory_growing_past_the_limit_is_an_error_and_the_server_is_fine(sandbox: ToolSandbox) -> None:
    source = "def f():\n    hoard = []\n    while True:\n        hoard.append(bytearray(4 * 1024**2))\n"
    result = await sandbox.run(source, "f", {})
    assert result.status == "error"
    assert result.return_value.startswith("MemoryError")
    assert (await sandbox.run("def f():\n    return 'still here'\n", "f", {})).return_value == "still here"


async def test_a_memory_limit_can_be_generous() -> None:
    sandbox = ToolSandbox(SandboxLimits(timeout_s=10.0, memory_mb=512))  # the fixture allows 256
    result = await sandbox.run("def f():\n    return len(bytes(320 * 1024**2))\n", "f", {})
    assert (result.status, result.return_value) == ("success", str(320 * MIB))


async def test_writing_a_file_past_the_size_limit_fails_in_the_tool() -> None:
    sandbox = ToolSandbox(SandboxLimits(timeout_s=10.0))
    source = (
        "import resource\n"
        "def f():\n"
        "    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"  # lowering is allowed
        "    with open('big', 'wb') as handle:\n"
        "        handle.write(b'x' * 5000)\n"
    )
    result = await sandbox.run(source, "f", {})
    assert result.status == "error"
    assert "File too large" in result.return_value
