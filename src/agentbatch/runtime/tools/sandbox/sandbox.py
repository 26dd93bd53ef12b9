"""ToolSandbox: each custom-tool call in a fresh, limited, disposable process, isolated by bubblewrap.

A call's life: a private scratch directory and a scrubbed environment; the child bootstrap started in
a session of its own with three pipes the parent made for it (stdout, stderr, and the result channel),
inside bubblewrap's namespaces (``bwrap.py``) as an unprivileged uid of its own; the request written
to its stdin; a wait bounded by the timeout; then the whole process group killed (which takes the
sandbox's PID namespace with it), the pipes drained for a short grace, and the directory removed. Every
way this can go wrong ends in a ``SandboxResult``.

Where bubblewrap is missing or cannot make namespaces, calls are refused with an error naming the
problem and the settings, unless the operator set the unsafe setting: then the bootstrap runs as a
plain subprocess (scrubbed environment, private directory, resource limits, and nothing more).
"""

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from agentbatch.runtime.tools.sandbox.bwrap import SCRATCH, BwrapPlan, bwrap_command, interpreter_prefixes
from agentbatch.runtime.tools.sandbox.capture import OutputPipe, to_lines
from agentbatch.runtime.tools.sandbox.environment import InvalidToolEnvironment, tool_environment
from agentbatch.runtime.tools.sandbox.identity import UidPool
from agentbatch.runtime.tools.sandbox.isolation import (
    PROBE_RETRY_S,
    UNSAFE_SETTING,
    IsolationCheck,
    SandboxIsolation,
    probe,
    refusal,
)
from agentbatch.runtime.tools.sandbox.limits import SandboxLimits, child_settings
from agentbatch.runtime.tools.sandbox.process import (
    kill_group,
    plain_command,
    sandboxed_command,
    send_request,
    spawn,
)
from agentbatch.runtime.tools.sandbox.protocol import Report, encode_request, parse_report, report_cap
from agentbatch.runtime.tools.sandbox.result import SandboxResult, died, timed_out
from agentbatch.runtime.tools.sandbox.workdir import make_workdir, remove_workdir

logger = logging.getLogger(__name__)

# After the child is gone: how long to wait for it to be reaped and for its pipes to reach end of
# file (a process that escaped the group can hold them open) before giving up on them.
SETTLE_GRACE_S = 1.0
SIGNAL_EXIT_BASE = 128


@dataclass(frozen=True, slots=True)
class _Launch:
    """How one call's child is started: its command line (given the result pipe's fd), cwd and env."""

    command: Callable[[int], list[str]]
    cwd: Path
    env: dict[str, str]
    # bwrap exits with 128 + N when the tool died of signal N; it is the signal that explains the end.
    signal_exit_codes: bool = False


class ToolSandbox:
    """Runs custom-tool calls out of process. Holds no per-call state: share one across tasks."""

    def __init__(
        self,
        limits: SandboxLimits = SandboxLimits(),
        *,
        python: str = sys.executable,
        isolation: SandboxIsolation = SandboxIsolation(),
    ) -> None:
        self._limits = limits
        self._python = python
        self._isolation = isolation
        self._check: IsolationCheck | None = None
        self._checked_at = 0.0
        self._probing = asyncio.Lock()  # calls arriving together wait for one probe
        self._warned_unsafe = False
        self._uids = UidPool(isolation.uid_base)

    @property
    def limits(self) -> SandboxLimits:
        return self._limits

    async def isolation_problem(self) -> str | None:
        """Why calls cannot be isolated on this machine (None when they can). A success is remembered
        for good, a failure for ``PROBE_RETRY_S``."""
        async with self._probing:
            now = time.monotonic()
            stale = self._check is not None and self._check.problem is not None
            if self._check is None or (stale and now - self._checked_at > PROBE_RETRY_S):
                self._check = await asyncio.to_thread(probe, self._isolation)
                self._checked_at = now
            return self._check.problem

    async def warn_if_not_isolated(self) -> None:
        """At server start: a warning in the log when custom tools will be refused or run unisolated."""
        problem = await self.isolation_problem()
        if problem is None:
            return
        if self._isolation.unsafe_without_isolation:
            self._warned_unsafe = True
            logger.warning("custom tools will run WITHOUT isolation (%s is set): %s", UNSAFE_SETTING, problem)
        else:
            logger.warning("%s", refusal(self._isolation, problem))

    async def run(
        self,
        source_code: str,
        function_name: str,
        arguments: Mapping[str, object],
        *,
        env: Mapping[str, str] | None = None,
        network: bool = False,
    ) -> SandboxResult:
        """Call ``function_name(**arguments)`` from ``source_code`` in a fresh, isolated process.

        ``env`` is what the tool may see of the environment beyond the minimal defaults; ``network``
        gives it the host's network (the tool declared it needs one). Never raises but for the
        caller's own cancellation, which kills the child and propagates.
        """
        deadline = asyncio.get_running_loop().time() + self._limits.timeout_s
        try:
            request = encode_request(source_code, function_name, arguments)
        except (TypeError, ValueError) as exc:
            return _error(f"tool arguments are not JSON-serialisable: {exc}")
        problem = await self.isolation_problem()
        if problem is not None and not self._isolation.unsafe_without_isolation:
            return _error(refusal(self._isolation, problem))
        try:
            workdir = make_workdir()
        except OSError as exc:
            return _error(f"could not create the tool's working directory: {exc}")
        as_root = os.geteuid() == 0
        uids = self._uids.lease() if as_root and problem is None else contextlib.nullcontext(-1)
        try:
            with uids as uid:
                try:
                    if problem is None:
                        launch = self._isolated(workdir, env, network, uid, as_root)
                    else:
                        launch = self._unsafe(workdir, env)
                except OSError as exc:
                    return _error(f"could not start the tool process: {exc}")
                return await self._run_in(launch, request, deadline)
        except InvalidToolEnvironment as exc:
            return _error(str(exc))
        except Exception as exc:  # a bug here must not take the server down with the tool
            logger.exception("the tool sandbox failed")
            return _error(f"the tool sandbox failed: {type(exc).__name__}: {exc}")
        finally:
            await asyncio.to_thread(remove_workdir, workdir)

    def _isolated(
        self, workdir: Path, env: Mapping[str, str] | None, network: bool, uid: int, as_root: bool
    ) -> _Launch:
        assert self._check is not None and self._check.executable is not None
        environment = tool_environment(SCRATCH, env, tmpdir="/tmp")
        if uid >= 0:
            os.chown(workdir, uid, uid)
        python = os.path.abspath(self._python)
        prefixes = interpreter_prefixes(python)
        plan = BwrapPlan(self._check.executable, workdir, network, as_root, interpreter_prefixes=prefixes)
        bwrap = bwrap_command(plan)
        limits, max_processes = self._limits, self._isolation.max_processes

        def command(result_fd: int) -> list[str]:
            settings = child_settings(limits, result_fd, max_processes=max_processes, uid=uid, init=True)
            return sandboxed_command(bwrap, python, settings)

        return _Launch(command, Path("/"), environment, signal_exit_codes=True)

    def _unsafe(self, workdir: Path, env: Mapping[str, str] | None) -> _Launch:
        if not self._warned_unsafe:
            self._warned_unsafe = True
            logger.warning(
                "running custom tools WITHOUT isolation (%s): they can read the server's secrets and files",
                self._check.problem if self._check else "isolation unavailable",
            )
        environment = tool_environment(workdir, env)
        limits, python = self._limits, self._python
        return _Launch(lambda fd: plain_command(python, child_settings(limits, fd)), workdir, environment)

    async def _run_in(self, launch: _Launch, request: bytes, deadline: float) -> SandboxResult:
        cap = self._limits.max_output_bytes
        stdout, stderr, results = OutputPipe(cap), OutputPipe(cap), OutputPipe(report_cap(cap))
        pipes = (stdout, stderr, results)
        try:
            for pipe in pipes:
                await pipe.start_reading()
            try:
                process = await spawn(
                    launch.command(results.child_fd),
                    cwd=launch.cwd,
                    env=launch.env,
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
        returncode = process.returncode
        if launch.signal_exit_codes and returncode is not None and returncode > SIGNAL_EXIT_BASE:
            returncode = SIGNAL_EXIT_BASE - returncode
        return _outcome(report, returncode, out, err)


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
