"""The parent's pieces without a child process: limits, environment, capture, protocol, messages, cleanup."""

import json
import os
import stat
from pathlib import Path

import pytest

from agentbatch.runtime.tools.sandbox import SandboxLimits, SandboxResult
from agentbatch.runtime.tools.sandbox.capture import BoundedBuffer, Captured, to_lines
from agentbatch.runtime.tools.sandbox.environment import InvalidToolEnvironment, tool_environment
from agentbatch.runtime.tools.sandbox.limits import child_settings
from agentbatch.runtime.tools.sandbox.protocol import Report, encode_request, parse_report
from agentbatch.runtime.tools.sandbox.result import died, timed_out
from agentbatch.runtime.tools.sandbox.workdir import make_workdir, remove_workdir


def test_limits_have_sane_defaults_and_reject_nonsense() -> None:
    assert SandboxLimits() == SandboxLimits(timeout_s=30.0, memory_mb=512, max_output_bytes=1_000_000)
    for bad in ({"timeout_s": 0}, {"timeout_s": float("inf")}, {"memory_mb": 0}, {"max_output_bytes": -1}):
        with pytest.raises(ValueError):
            SandboxLimits(**bad)


def test_child_settings_follow_the_limits() -> None:
    settings = child_settings(SandboxLimits(timeout_s=2.5, memory_mb=128, max_output_bytes=99), result_fd=7)
    assert settings["result_fd"] == 7
    assert settings["memory_bytes"] == 128 * 1024 * 1024
    assert settings["cpu_seconds"] == 4  # ceil(2.5) + 1: a backstop behind the wall clock
    assert settings["max_value_bytes"] == 99
    assert 0 < settings["open_files"] <= 1024
    assert 0 < settings["file_bytes"] < 1024**3


def test_the_environment_is_built_from_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    env = tool_environment(Path("/tmp/call"), {"TOOL_TOKEN": "t"})
    assert env == {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": "/tmp/call",
        "TMPDIR": "/tmp/call",
        "TOOL_TOKEN": "t",
    }
    assert "OPENAI_API_KEY" not in tool_environment(Path("/tmp/call"), None)


@pytest.mark.parametrize("extra", [{"": "x"}, {"A=B": "x"}, {"A\0": "x"}, {"A": "x\0y"}, {"A": 1}])
def test_variables_that_cannot_be_passed_are_rejected(extra: dict[str, str]) -> None:
    with pytest.raises(InvalidToolEnvironment):
        tool_environment(Path("/tmp/call"), extra)


def test_the_bounded_buffer_keeps_the_head_and_counts_the_rest() -> None:
    buffer = BoundedBuffer(5)
    for chunk in (b"abc", b"defg", b"hij"):
        buffer.feed(chunk)
    assert buffer.captured() == Captured(b"abcde", 10)
    assert buffer.captured().truncated
    assert not Captured(b"ab", 2).truncated


def test_output_becomes_lines() -> None:
    assert to_lines(Captured(b"", 0)) == []
    assert to_lines(Captured(b"one\ntwo", 7)) == ["one", "two"]
    assert to_lines(Captured(b"one\r\n\ntwo\n", 10)) == ["one", "", "two"]
    assert to_lines(Captured(b"bad \xff\xfe", 6)) == ["bad \ufffd\ufffd"]
    assert to_lines(Captured(b"ab", 9)) == ["ab", "[truncated: 9 bytes, only the first 2 are kept]"]


def test_the_request_is_json_and_refuses_what_json_cannot_carry() -> None:
    request = json.loads(encode_request("src", "f", {"a": [1, "é"]}))
    assert request == {"source": "src", "function": "f", "arguments": {"a": [1, "é"]}}
    with pytest.raises(TypeError):
        encode_request("src", "f", {"a": object()})


def test_the_report_is_checked_before_it_is_believed() -> None:
    def captured(payload: object) -> Captured:
        data = json.dumps(payload).encode()
        return Captured(data, len(data))

    malformed = Report("error", "tool produced a malformed result")
    assert parse_report(Captured(b"", 0)) is None
    assert parse_report(captured({"status": "success", "value": "ok"})) == Report("success", "ok")
    assert parse_report(captured({"status": "error", "value": "E: x"})) == Report("error", "E: x")
    assert parse_report(captured({"status": "maybe", "value": "ok"})) == malformed
    assert parse_report(captured({"status": "success", "value": 3})) == malformed
    assert parse_report(captured(["success"])) == malformed
    assert parse_report(Captured(b'{"status": "succ', 16)) == malformed
    assert parse_report(Captured(b'{"status": "success", "value": "ok"}', 10**9)) == malformed
    assert parse_report(captured({"status": "success", "value": "a\udcffb"})) == Report("success", "a?b")


def test_the_ways_a_child_can_end_read_plainly() -> None:
    assert timed_out(2) == "tool timed out after 2.0 s"
    assert timed_out(0.25) == "tool timed out after 0.25 s"
    assert died(-9) == "tool process died (signal 9)"
    assert died(-24) == "tool process died (signal 24): it used up its CPU time"
    assert died(0) == "tool produced no result"
    assert died(3) == "tool produced no result (exit code 3)"


def test_results_compare_by_value() -> None:
    assert SandboxResult("success", "x", ["a"], []) == SandboxResult("success", "x", ["a"], [])
    with pytest.raises(AttributeError):
        SandboxResult("success", "x", [], []).status = "error"  # type: ignore[misc]


def test_the_working_directory_goes_even_when_made_unreadable() -> None:
    workdir = make_workdir()
    assert stat.S_IMODE(workdir.stat().st_mode) == 0o700
    locked = workdir / "a" / "b"
    locked.mkdir(parents=True)
    (locked / "file").write_text("x")
    outside = make_workdir()
    try:
        (workdir / "link").symlink_to(outside)
        os.chmod(workdir / "a", 0)
        os.chmod(outside, 0o500)
        remove_workdir(workdir)
        assert not workdir.exists()
        assert stat.S_IMODE(outside.stat().st_mode) == 0o500  # a symlink is not followed
    finally:
        os.chmod(outside, 0o700)
        remove_workdir(outside)
    remove_workdir(workdir)  # already gone: not an error
