"""Starting the child bootstrap in its own session, feeding it the request, and killing its group."""

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Mapping
from pathlib import Path

CHILD_SCRIPT = Path(__file__).with_name("child.py")


async def spawn(
    python: str,
    settings: Mapping[str, int],
    *,
    workdir: Path,
    env: Mapping[str, str],
    stdout_fd: int,
    stderr_fd: int,
    result_fd: int,
) -> asyncio.subprocess.Process:
    """``python -I -u child.py SETTINGS``: isolated mode ignores PYTHON* variables and the user site,
    ``-u`` makes what the tool prints reach the parent at once (so a tool killed at its timeout still
    shows what it printed). ``start_new_session`` puts the child in a process group of its own.
    """
    return await asyncio.create_subprocess_exec(
        python,
        "-I",
        "-u",
        str(CHILD_SCRIPT),
        json.dumps(dict(settings)),
        stdin=asyncio.subprocess.PIPE,
        stdout=stdout_fd,
        stderr=stderr_fd,
        pass_fds=(result_fd,),
        cwd=workdir,
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
    """SIGKILL every process in the group (the tool and whatever it started without leaving it)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
