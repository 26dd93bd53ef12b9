"""Starting the child bootstrap in its own session, feeding it the request, and killing its group."""

import asyncio
import contextlib
import functools
import json
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

CHILD_SCRIPT = Path(__file__).with_name("child.py")


def plain_command(python: str, settings: Mapping[str, int]) -> list[str]:
    """``python -I -u child.py SETTINGS``: isolated mode ignores PYTHON* variables and the user site,
    ``-u`` makes what the tool prints reach the parent at once (so a tool killed at its timeout still
    shows what it printed)."""
    return [python, "-I", "-u", str(CHILD_SCRIPT), json.dumps(dict(settings))]


def sandboxed_command(bwrap: Sequence[str], python: str, settings: Mapping[str, int]) -> list[str]:
    """The same bootstrap inside bubblewrap, given as ``-c`` source: no path of the server is bound."""
    return [*bwrap, python, "-I", "-u", "-c", _child_source(), json.dumps(dict(settings))]


@functools.cache
def _child_source() -> str:
    return CHILD_SCRIPT.read_text(encoding="utf-8")


async def spawn(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdout_fd: int,
    stderr_fd: int,
    result_fd: int,
) -> asyncio.subprocess.Process:
    """``start_new_session`` puts the child in a process group of its own."""
    return await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=stdout_fd,
        stderr=stderr_fd,
        pass_fds=(result_fd,),
        cwd=cwd,
        env=dict(env),
        start_new_session=True,
    )


async def send_request(process: asyncio.subprocess.Process, request: bytes) -> None:
    """Write the request and close stdin. A child that dies before reading it is not an error here."""
    stdin = process.stdin
    if stdin is None:
        return
    try:
        stdin.write(request)
        await stdin.drain()
    except OSError:  # BrokenPipeError, ConnectionResetError: the child is gone; its exit says why
        pass
    finally:
        stdin.close()


def kill_group(pgid: int) -> None:
    """SIGKILL every process in the group (the tool and whatever it started without leaving it).
    Under bubblewrap the group is bwrap itself; its death takes the whole PID namespace with it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
