"""Where bubblewrap is missing or cannot make namespaces: tools are refused, unless the operator opts
into the unsafe plain-subprocess mode by its setting."""

import logging
from pathlib import Path

import pytest

from agentbatch.runtime.tools.sandbox import SandboxIsolation, SandboxLimits, ToolSandbox

WRITE_PROOF = "def f(path):\n    open(path, 'w').write('ran')\n    return 'ran'\n"


def _sandbox(bwrap: str, *, unsafe: bool = False) -> ToolSandbox:
    isolation = SandboxIsolation(bwrap=bwrap, unsafe_without_isolation=unsafe)
    return ToolSandbox(SandboxLimits(timeout_s=5.0), isolation=isolation)


async def test_without_bubblewrap_a_tool_call_is_refused_naming_the_problem_and_the_settings(
    tmp_path: Path,
) -> None:
    proof = tmp_path / "ran"
    result = await _sandbox("/nonexistent/bwrap").run(WRITE_PROOF, "f", {"path": str(proof)})
    assert result.status == "error"
    assert "custom tools are disabled" in result.return_value
    assert "'/nonexistent/bwrap'" in result.return_value
    assert "AGENTBATCH_TOOL_SANDBOX_BWRAP" in result.return_value
    assert "AGENTBATCH_UNSAFE_SANDBOX_WITHOUT_ISOLATION=true" in result.return_value
    assert not proof.exists()  # the tool never ran


async def test_a_bubblewrap_that_cannot_make_namespaces_is_refused_too(tmp_path: Path) -> None:
    proof = tmp_path / "ran"
    result = await _sandbox("/bin/false").run(WRITE_PROOF, "f", {"path": str(proof)})
    assert result.status == "error"
    assert "cannot create namespaces" in result.return_value
    assert not proof.exists()


async def test_the_unsafe_setting_runs_tools_in_a_plain_subprocess(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proof = tmp_path / "ran"
    sandbox = _sandbox("/nonexistent/bwrap", unsafe=True)
    with caplog.at_level(logging.WARNING):
        first = await sandbox.run(WRITE_PROOF, "f", {"path": str(proof)})
        second = await sandbox.run("def f():\n    return 2\n", "f", {})
    assert (first.status, first.return_value, second.return_value) == ("success", "ran", "2")
    assert proof.read_text() == "ran"  # weak indeed: it wrote into the server's filesystem
    warnings = [record for record in caplog.records if "WITHOUT isolation" in record.getMessage()]
    assert len(warnings) == 1


async def test_the_server_warns_at_start_when_tools_will_be_refused(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        await _sandbox("/nonexistent/bwrap").warn_if_not_isolated()
    assert any("custom tools are disabled" in record.getMessage() for record in caplog.records)


async def test_the_server_warns_at_start_when_tools_will_run_unisolated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        await _sandbox("/nonexistent/bwrap", unsafe=True).warn_if_not_isolated()
    assert any("WITHOUT isolation" in record.getMessage() for record in caplog.records)


async def test_an_isolated_server_says_nothing_at_start(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        await ToolSandbox().warn_if_not_isolated()
    assert caplog.records == []


async def test_the_unsafe_setting_does_not_weaken_a_machine_that_can_isolate(tmp_path: Path) -> None:
    proof = tmp_path / "ran"
    result = await _sandbox("bwrap", unsafe=True).run(WRITE_PROOF, "f", {"path": str(proof)})
    assert result.status == "error"  # the server's tmp_path is not in the sandbox
    assert not proof.exists()
