"""The child bootstrap's pieces, run in-process: rendering, error lines, truncation, loading a source."""

import json

import pytest

from agentbatch.runtime.tools.sandbox import child

MIB = 1024 * 1024


class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no")


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("plain text", "plain text"),
        ("", ""),
        ({"a": [1, 2.5, None, True]}, '{"a": [1, 2.5, null, true]}'),
        ({"ville": "Zürich"}, '{"ville": "Zürich"}'),
        (None, "null"),
        (3, "3"),
        ((1, 2), "[1, 2]"),
        (Opaque(), "Opaque()"),
        ({"x": Opaque()}, "{'x': Opaque()}"),
        (float("nan"), "nan"),
        (Unprintable(), "<Unprintable object>"),
    ],
)
def test_render_value(value: object, rendered: str) -> None:
    assert child.render_value(value) == rendered


def test_describe_exception_is_one_line() -> None:
    assert child.describe_exception(ValueError("bad\n  input"), MIB) == "ValueError: bad input"
    assert child.describe_exception(KeyError("k"), MIB) == "KeyError: 'k'"
    assert child.describe_exception(StopIteration(), MIB) == "StopIteration"
    assert child.describe_exception(MemoryError(), 512 * MIB) == (
        "MemoryError: the tool ran out of memory (limit 512 MB)"
    )
    assert child.describe_exception(MemoryError("custom"), MIB) == "MemoryError: custom"


def test_describe_exception_survives_a_broken_str() -> None:
    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert child.describe_exception(Broken(), MIB) == "Broken"


def test_truncate_keeps_whole_characters_and_says_so() -> None:
    assert child.truncate("short", 10) == "short"
    assert child.truncate("ééé", 4) == "éé\n[truncated: 6 bytes, only the first 4 are kept]"
    assert child.truncate("éé", 3) == "é\n[truncated: 4 bytes, only the first 3 are kept]"
    assert child.truncate("a\udcffb", 10) == "a?b"  # a lone surrogate cannot travel as UTF-8


def test_parse_request() -> None:
    raw = json.dumps({"source": "x = 1", "function": "f", "arguments": {"a": 1}}).encode()
    assert child.parse_request(raw) == ("x = 1", "f", {"a": 1})
    for bad, message in [
        (b"not json", "malformed tool request"),
        (b"[]", "malformed tool request"),
        (json.dumps({"source": 1, "function": "f", "arguments": {}}).encode(), "must be strings"),
        (json.dumps({"source": "", "function": "f", "arguments": [1]}).encode(), "must be a JSON object"),
    ]:
        with pytest.raises(child.RequestError, match=message):
            child.parse_request(bad)


def test_load_function_names_what_is_wrong() -> None:
    assert child.load_function("def f(x):\n    return x + 1\n", "f", MIB)(x=1) == 2
    with pytest.raises(child.RequestError, match=r"does not compile: SyntaxError"):
        child.load_function("def f(:\n", "f", MIB)
    with pytest.raises(child.RequestError, match=r"does not compile: \w+Error: .*null bytes"):
        child.load_function("x = 1\0", "f", MIB)
    with pytest.raises(child.RequestError, match="failed while loading: NameError"):
        child.load_function("undefined_name\n", "f", MIB)
    with pytest.raises(child.RequestError, match="no function named 'g'"):
        child.load_function("def f():\n    pass\n", "g", MIB)
    with pytest.raises(child.RequestError, match="not a function but a int"):
        child.load_function("g = 1\n", "g", MIB)


def test_each_load_gets_a_fresh_namespace() -> None:
    source = "state = []\ndef f():\n    state.append(1)\n    return len(state)\n"
    first, second = (child.load_function(source, "f", MIB) for _ in range(2))
    assert (first(), first(), second()) == (1, 2, 1)


def test_call_function_runs_coroutines() -> None:
    double = child.load_function("async def double(x):\n    return 2 * x\n", "double", MIB)
    assert child.call_function(double, {"x": 4}) == 8


def test_run_tool_never_raises() -> None:
    request = {"source": "def f():\n    raise SystemExit(4)\n", "function": "f", "arguments": {}}
    assert child.run_tool(json.dumps(request).encode(), MIB) == ("error", "SystemExit: 4")
    assert child.run_tool(b"garbage", MIB)[0] == "error"
    request = {"source": "def f(a):\n    return {'a': a}\n", "function": "f", "arguments": {"a": "b"}}
    assert child.run_tool(json.dumps(request).encode(), MIB) == ("success", '{"a": "b"}')
