"""ToolSandbox: each custom-tool call in a fresh, limited, disposable process.

A call's life: a private temporary directory and a scrubbed environment; the child bootstrap started in
a session of its own with three pipes the parent made for it (stdout, stderr, and the result channel);
the request written to its stdin; a wait bounded by the timeout; then the whole process group killed
(the tool on timeout or cancellation, whatever it left running otherwise), the pipes drained for a
short grace, and the directory removed. Every way this can go wrong ends in a ``SandboxResult``.
"""

import asyncio
import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from agentbatch.runtime.sandbox.capture import OutputPipe, to_lines
from agentbatch.runtime.sandbox.environment import InvalidToolEnvironment, tool_environment
from agentbatch.runtime.sandbox.limits import SandboxLimits, child_settings
from agentbatch.runtime.sandbox.process import kill_group, send_request, spawn
from agentbatch.runtime.sandbox.protocol import Report, encode_request, parse_report, report_cap
from agentbatch.runtime.sandbox.result import SandboxResult, died, timed_out
from agentbatch.runtime.sandbox.workdir import make_workdir, remove_workdir

logger = logging.getLogger(__name__)

# After the child is gone: how long to wait for it to be reaped and for its pipes to reach end of
# file (a process that escaped the group can hold them open) before giving up on them.
SETTLE_GRACE_S = 1.0


class ToolSandbox:
    """Runs custom-tool calls out of process. Holds no per-call state: share one across tasks."""

    def __init__(self, limits: SandboxLimits = SandboxLimits(), *, python: str = sys.executable) -> None:
        self._limits = limits
        self._python = python

    @property
    def limits(self) -> SandboxLimits:
        return self._limits

    async def run(
        self,
        source_code: str,
        function_name: str,
        arguments: Mapping[str, object],
        *,
        env: Mapping[str, str] | None = None,
    ) -> SandboxResult:
        """Call ``function_name(**arguments)`` from ``source_code`` in a fresh process.

        ``env`` is what the tool may see of the environment beyond the minimal defaults. Never raises
        but for the caller's own cancellation, which kills the child and propagates.
        """
        deadline = asyncio.get_running_loop().time() + self._limits.timeout_s
        try:
            request = encode_request(source_code, function_name, arguments)
        except (TypeError, ValueError) as exc:
            return _error(f"tool arguments are not JSON-serialisable: {exc}")
        try:
            workdir = make_workdir()
        except OSError as exc:
            return _error(f"could not create the tool's working directory: {exc}")
        try:
            return await self._run_in(workdir, tool_environment(workdir, env), request, deadline)
        except InvalidToolEnvironment as exc:
            return _error(str(exc))
        except Exception as exc:  # a bug here must not take the server down with the tool
            logger.exception("the tool sandbox failed")
            return _error(f"the tool sandbox failed: {type(exc).__name__}: {exc}")
        finally:
            await asyncio.to_thread(remove_workdir, workdir)

    async def _run_in(
        self, workdir: Path, environment: dict[str, str], request: bytes, deadline: float
    ) -> SandboxResult:
        cap = self._limits.max_output_bytes
        stdout, stderr, results = OutputPipe(cap), OutputPipe(cap), OutputPipe(report_cap(cap))
        pipes = (stdout, stderr, results)
        try:
            for pipe in pipes:
                await pipe.start_reading()
            try:
                process = await spawn(
                    self._python,
                    child_settings(self._limits, results.child_fd),
                    workdir=workdir,
                    env=environment,
                    stdout_fd=stdout.child_fd,
                    stderr_fd=stderr.child_fd,
                    result_fd=results.child_fd,
                )
            except (OSError, ValueError, subprocess.SubprocessError) as exc:
                return _error(f"could not start the tool process: {exc}")
            finally:
                for pipe in pipes:
                    pipe.close_child_end()
            finished = await _supervise(process, request, pipes, deadline)
        finally:
            for pipe in pipes:
                pipe.close()
        out, err = to_lines(stdout.captured()), to_lines(stderr.captured())
        if not finished:
            return SandboxResult("error", timed_out(self._limits.timeout_s), out, err)
        report = parse_report(results.captured())
        return _outcome(report, process.returncode, out, err)


async def _supervise(
    process: asyncio.subprocess.Process, request: bytes, pipes: tuple[OutputPipe, ...], deadline: float
) -> bool:
    """Whether the child ended by itself before the deadline. Its process group is dead afterwards,
    also when the awaiting task is cancelled (the CancelledError then propagates)."""
    loop = asyncio.get_running_loop()
    feeder = asyncio.create_task(send_request(process, request))
    finished = False
    try:
        finished = await _wait(process, deadline)
    finally:
        kill_group(process.pid)
        settle_by = loop.time() + SETTLE_GRACE_S
        await _wait(process, settle_by)
        for pipe in pipes:
            await pipe.wait_closed(settle_by)
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
    return finished


async def _wait(process: asyncio.subprocess.Process, deadline: float) -> bool:
    try:
        async with asyncio.timeout_at(deadline):
            await process.wait()
    except TimeoutError:
        return False
    return True


def _outcome(report: Report | None, returncode: int | None, out: list[str], err: list[str]) -> SandboxResult:
    if report is not None:
        return SandboxResult(report.status, report.value, out, err)
    if returncode is None:
        return SandboxResult("error", "tool process did not exit", out, err)
    return SandboxResult("error", died(returncode), out, err)


def _error(explanation: str) -> SandboxResult:
    return SandboxResult("error", explanation, [], [])
