"""What a tool call returns: values, prints, exceptions, broken sources, async tools, odd exits."""

import json

from agentbatch.runtime.tools.sandbox import SandboxLimits, SandboxResult, ToolSandbox


async def test_a_string_comes_back_as_is_with_what_the_tool_printed(sandbox: ToolSandbox) -> None:
    source = (
        "import sys\n"
        "def greet(name):\n"
        "    print('looking up', name)\n"
        "    print('second line')\n"
        "    print('careful', file=sys.stderr)\n"
        "    return f'hello {name}'\n"
    )
    result = await sandbox.run(source, "greet", {"name": "Ada"})
    assert result == SandboxResult("success", "hello Ada", ["looking up Ada", "second line"], ["careful"])


async def test_json_serialisable_values_come_back_as_json(sandbox: ToolSandbox) -> None:
    source = "def lookup(city):\n    return {'city': city, 'temps': [1.5, -2], 'ok': True, 'note': None}\n"
    result = await sandbox.run(source, "lookup", {"city": "Zürich"})
    assert result.status == "success"
    assert json.loads(result.return_value) == {"city": "Zürich", "temps": [1.5, -2], "ok": True, "note": None}
    assert "Zürich" in result.return_value  # readable, not \u-escaped

    for value, rendered in [("42", "42"), ("None", "null"), ("[1, 'a']", '[1, "a"]')]:
        result = await sandbox.run(f"def f():\n    return {value}\n", "f", {})
        assert (result.status, result.return_value) == ("success", rendered)


async def test_other_values_come_back_as_their_repr(sandbox: ToolSandbox) -> None:
    source = "class Point:\n    def __repr__(self):\n        return 'Point(1, 2)'\n"
    source += "def f():\n    return Point()\n"
    assert (await sandbox.run(source, "f", {})).return_value == "Point(1, 2)"
    assert (await sandbox.run("def f():\n    return {1, 2}\n", "f", {})).return_value == "{1, 2}"


async def test_an_exception_is_an_error_with_the_traceback_tail_in_stderr(sandbox: ToolSandbox) -> None:
    source = (
        "def check(x):\n"
        "    if x < 0:\n"
        "        raise ValueError(f'negative: {x}')\n"
        "def tool(x):\n"
        "    print('checking')\n"
        "    check(x)\n"
    )
    result = await sandbox.run(source, "tool", {"x": -3})
    assert result.status == "error"
    assert result.return_value == "ValueError: negative: -3"
    assert result.stdout == ["checking"]
    assert result.stderr[0] == "Traceback (most recent call last):"
    assert result.stderr[-1] == "ValueError: negative: -3"
    assert any("raise ValueError" in line for line in result.stderr)
    assert not any("child.py" in line for line in result.stderr)  # the bootstrap's frames are noise


async def test_the_error_is_one_line_even_for_a_multi_line_message(sandbox: ToolSandbox) -> None:
    result = await sandbox.run("def f():\n    1 / 0\n", "f", {})
    assert result.return_value == "ZeroDivisionError: division by zero"
    result = await sandbox.run("def f():\n    raise RuntimeError('first\\nsecond')\n", "f", {})
    assert result.return_value == "RuntimeError: first second"


async def test_large_requests_and_results_flow_through_the_pipes(sandbox: ToolSandbox) -> None:
    source = "def f(blob):\n    print(len(blob))\n    return blob.upper()\n"
    result = await sandbox.run(source, "f", {"blob": "ab" * 40_000})  # more than a pipe buffer each way
    assert (result.status, result.return_value, result.stdout) == ("success", "AB" * 40_000, ["80000"])


async def test_wrong_arguments_are_an_error_naming_the_problem(sandbox: ToolSandbox) -> None:
    result = await sandbox.run("def f(a):\n    return a\n", "f", {"b": 1})
    assert result.status == "error"
    assert "TypeError" in result.return_value
    assert "'b'" in result.return_value


async def test_source_that_does_not_compile_is_an_error(sandbox: ToolSandbox) -> None:
    result = await sandbox.run("def f(:\n    return 1\n", "f", {})
    assert result.status == "error"
    assert result.return_value.startswith("tool source does not compile: SyntaxError")
    assert "line 1" in result.return_value


async def test_source_that_fails_while_loading_is_an_error(sandbox: ToolSandbox) -> None:
    result = await sandbox.run("import no_such_module_here\ndef f():\n    return 1\n", "f", {})
    assert result.status == "error"
    assert "ModuleNotFoundError" in result.return_value
    assert "no_such_module_here" in result.return_value


async def test_a_missing_or_uncallable_function_is_an_error_naming_it(sandbox: ToolSandbox) -> None:
    result = await sandbox.run("def other():\n    return 1\n", "get_weather", {})
    assert result == SandboxResult("error", "tool source defines no function named 'get_weather'", [], [])
    result = await sandbox.run("get_weather = 3\n", "get_weather", {})
    assert result.status == "error"
    assert "'get_weather'" in result.return_value
    assert "not a function" in result.return_value


async def test_async_tools_are_awaited(sandbox: ToolSandbox) -> None:
    source = (
        "import asyncio\nasync def double(x):\n    await asyncio.sleep(0.01)\n    return {'twice': 2 * x}\n"
    )
    result = await sandbox.run(source, "double", {"x": 21})
    assert (result.status, json.loads(result.return_value)) == ("success", {"twice": 42})

    failing = "import asyncio\nasync def f():\n    await asyncio.sleep(0)\n    raise KeyError('k')\n"
    result = await sandbox.run(failing, "f", {})
    assert (result.status, result.return_value) == ("error", "KeyError: 'k'")


async def test_a_tool_killed_by_a_signal_is_an_error(sandbox: ToolSandbox) -> None:
    source = "import os, signal\ndef f():\n    print('about to die')\n    os.kill(os.getpid(), 9)\n"
    result = await sandbox.run(source, "f", {})
    assert result == SandboxResult("error", "tool process died (signal 9)", ["about to die"], [])
    result = await sandbox.run("import os, signal\ndef f():\n    os.kill(os.getpid(), 11)\n", "f", {})
    assert result.status == "error"
    assert result.return_value.startswith("tool process died (signal 11)")


async def test_a_tool_that_exits_without_returning_is_an_error(sandbox: ToolSandbox) -> None:
    result = await sandbox.run("import os\ndef f():\n    os._exit(3)\n", "f", {})
    assert (result.status, result.return_value) == ("error", "tool produced no result (exit code 3)")
    result = await sandbox.run("import sys\ndef f():\n    sys.exit(2)\n", "f", {})
    assert (result.status, result.return_value) == ("error", "SystemExit: 2")


async def test_reading_input_sees_end_of_file_instead_of_blocking(fast_timeout_sandbox: ToolSandbox) -> None:
    result = await fast_timeout_sandbox.run("def f():\n    return input('name? ')\n", "f", {})
    assert (result.status, result.return_value) == ("error", "EOFError: EOF when reading a line")
    result = await fast_timeout_sandbox.run("import sys\ndef f():\n    return sys.stdin.read()\n", "f", {})
    assert (result.status, result.return_value) == ("success", "")


async def test_arguments_that_are_not_json_are_an_error_without_a_process(sandbox: ToolSandbox) -> None:
    result = await sandbox.run("def f(x):\n    return x\n", "f", {"x": object()})
    assert result.status == "error"
    assert result.return_value.startswith("tool arguments are not JSON-serialisable")


async def test_a_python_that_cannot_start_is_an_error() -> None:
    sandbox = ToolSandbox(SandboxLimits(timeout_s=5.0), python="/nonexistent/python3")
    result = await sandbox.run("def f():\n    return 1\n", "f", {})
    assert result.status == "error"
    assert result.return_value.startswith("could not start the tool process")
