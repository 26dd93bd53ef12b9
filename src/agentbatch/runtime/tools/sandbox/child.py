"""The bootstrap of one sandboxed tool call, run by path as ``python -I -u child.py SETTINGS``.

It imports nothing outside the standard library (least of all agentbatch): it runs in a fresh interpreter
with a scrubbed environment, and what it can import is exactly what the tool could.

The protocol with the parent (``process.py`` starts it, ``protocol.py`` reads its report):

* ``SETTINGS`` (argv): a JSON object with ``result_fd``, ``memory_bytes``, ``cpu_seconds``,
  ``open_files``, ``file_bytes``, ``max_processes``, ``max_value_bytes``, ``uid`` and ``init``. With
  ``init`` set (PID 1 of bubblewrap's PID namespace) the bootstrap forks and the first process only
  reaps; the rest happens in the second. The limits are applied first, then (``uid`` >= 0: started as
  root in the bubblewrap sandbox) the bootstrap becomes that unprivileged uid for good, all before the
  request is even read.
* stdin: one JSON object ``{"source": str, "function": str, "arguments": {...}}``, then end of file.
  Afterwards stdin is ``/dev/null``, so a tool that reads its input sees end of file and never blocks.
* ``result_fd``: a pipe the parent made for this call alone. The bootstrap writes exactly one JSON object
  ``{"status": "success" | "error", "value": str}`` to it and exits. User ``print`` output goes to the
  ordinary stdout and stderr, so however it looks it cannot reach this channel.
* stderr also receives the tail of the traceback when the tool raises.

The bootstrap leaves through ``os._exit`` once the result is written, so threads the tool left running
cannot hold the process open.
"""

import contextlib
import inspect
import io
import json
import linecache
import os
import resource
import sys
import traceback
from collections.abc import Awaitable
from typing import Any

TOOL_FILENAME = "<tool>"
TRACEBACK_FRAMES = 8
EXIT_BAD_SETTINGS = 2
SIGNAL_EXIT_BASE = 128  # an exit code of 128 + N reports death by signal N, as shells do


class RequestError(Exception):
    """A failure the bootstrap explains itself: a malformed request, source that will not load, ..."""


def apply_limits(settings: dict[str, int]) -> None:
    """Lower soft and hard limits alike, so the tool cannot raise them back."""
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_AS, settings["memory_bytes"])
    # SIGXCPU at the soft limit, SIGKILL one second later should the tool handle SIGXCPU.
    _set_limit(resource.RLIMIT_CPU, settings["cpu_seconds"], settings["cpu_seconds"] + 1)
    _set_limit(resource.RLIMIT_NOFILE, settings["open_files"])
    _set_limit(resource.RLIMIT_FSIZE, settings["file_bytes"])
    if settings["max_processes"] > 0:
        _set_limit(resource.RLIMIT_NPROC, settings["max_processes"])


def become_init() -> None:
    """As PID 1 of the sandbox's PID namespace (bubblewrap's ``--as-pid-1``): fork the process that
    runs the tool, reap every orphan, and when that process ends, exit with its status. Returns in the
    forked process only. The kernel kills whatever else is left in the namespace when PID 1 exits, and
    PID 1 is not seen to end before all of it is gone: once bubblewrap exits, nothing of the call runs.
    """
    runner = os.fork()
    if runner == 0:
        return
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(EXIT_BAD_SETTINGS)
        if pid == runner:
            code = os.waitstatus_to_exitcode(status)
            os._exit(SIGNAL_EXIT_BASE - code if code < 0 else code)


def drop_privileges(uid: int) -> None:
    """Become ``uid`` (and the group of the same number) with no supplementary groups. Root in the
    sandbox is exempt from ``RLIMIT_NPROC``; an unprivileged uid is not, and it keeps no capability."""
    if uid < 0:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    hard = soft if hard is None else hard
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def render_value(value: object) -> str:
    """A string as is, other JSON-serialisable values as JSON, anything else as its repr."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except Exception:
        pass
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__} object>"


def describe_exception(exc: BaseException, memory_bytes: int) -> str:
    """``ExcType: message`` on one line, for the LLM to read."""
    name = type(exc).__name__
    try:
        message = " ".join(str(exc).split())
    except Exception:
        message = ""
    if isinstance(exc, MemoryError) and not message:
        message = f"the tool ran out of memory (limit {memory_bytes // (1024 * 1024)} MB)"
    return f"{name}: {message}" if message else name


def truncate(text: str, max_bytes: int) -> str:
    """At most ``max_bytes`` of UTF-8 (plus a marker saying so); unencodable characters replaced."""
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= max_bytes:
        return encoded.decode("utf-8")
    kept = encoded[:max_bytes].decode("utf-8", errors="ignore")
    return f"{kept}\n[truncated: {len(encoded)} bytes, only the first {max_bytes} are kept]"


def parse_request(raw: bytes) -> tuple[str, str, dict[str, Any]]:
    try:
        request = json.loads(raw)
    except ValueError as exc:
        raise RequestError(f"malformed tool request: {exc}") from None
    if not isinstance(request, dict):
        raise RequestError("malformed tool request: not a JSON object")
    source, function, arguments = request.get("source"), request.get("function"), request.get("arguments")
    if not isinstance(source, str) or not isinstance(function, str):
        raise RequestError("malformed tool request: source and function must be strings")
    if not isinstance(arguments, dict):
        raise RequestError("tool arguments must be a JSON object")
    return source, function, arguments


def load_function(source: str, function: str, memory_bytes: int) -> Any:
    """Exec the source in a fresh namespace and return the named callable."""
    linecache.cache[TOOL_FILENAME] = (len(source), None, source.splitlines(keepends=True), TOOL_FILENAME)
    try:
        code = compile(source, TOOL_FILENAME, "exec")
    except Exception as exc:
        _print_traceback(exc)
        raise RequestError(f"tool source does not compile: {describe_exception(exc, memory_bytes)}") from None
    namespace: dict[str, Any] = {"__name__": "__tool__", "__builtins__": __builtins__}
    try:
        exec(code, namespace)
    except BaseException as exc:
        _print_traceback(exc)
        raise RequestError(
            f"tool source failed while loading: {describe_exception(exc, memory_bytes)}"
        ) from None
    if function not in namespace:
        raise RequestError(f"tool source defines no function named {function!r}")
    target = namespace[function]
    if not callable(target):
        raise RequestError(f"{function!r} in the tool source is not a function but a {type(target).__name__}")
    return target


def call_function(target: Any, arguments: dict[str, Any]) -> object:
    """Call with keyword arguments; a coroutine (``async def``) is run to completion with asyncio."""
    value = target(**arguments)
    if inspect.isawaitable(value):
        import asyncio

        async def _await(awaitable: Awaitable[object]) -> object:
            return await awaitable

        value = asyncio.run(_await(value))
    return value


def run_tool(raw_request: bytes, memory_bytes: int) -> tuple[str, str]:
    """The call, as the ``(status, value)`` pair the parent expects. Never raises."""
    try:
        source, function, arguments = parse_request(raw_request)
        target = load_function(source, function, memory_bytes)
    except RequestError as exc:
        return "error", str(exc)
    try:
        value = call_function(target, arguments)
    except BaseException as exc:
        if isinstance(exc, MemoryError):
            traceback.clear_frames(exc.__traceback__)  # let go of what filled the memory first
        _print_traceback(exc)
        return "error", describe_exception(exc, memory_bytes)
    return "success", render_value(value)


def _print_traceback(exc: BaseException) -> None:
    """The tail of the traceback from the tool's outermost frame on (the bootstrap's frames are noise;
    with no frame of the tool's, as for a SyntaxError, just the exception)."""
    try:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != TOOL_FILENAME:
            tb = tb.tb_next
        lines = traceback.format_exception(type(exc), exc, tb, limit=-TRACEBACK_FRAMES)
        sys.stderr.write("".join(lines))
        sys.stderr.flush()
    except BaseException:
        pass


def report(result_fd: int, status: str, value: str) -> None:
    payload = json.dumps({"status": status, "value": value}).encode("ascii")
    view = memoryview(payload)
    while view:
        view = view[os.write(result_fd, view) :]
    os.close(result_fd)


def _read_settings(argv: list[str]) -> dict[str, int]:
    settings = json.loads(argv[0])
    keys = (
        "result_fd",
        "memory_bytes",
        "cpu_seconds",
        "open_files",
        "file_bytes",
        "max_processes",
        "max_value_bytes",
        "uid",
        "init",
    )
    if not isinstance(settings, dict) or not all(isinstance(settings.get(key), int) for key in keys):
        raise ValueError(f"bad sandbox settings: {argv[0]!r}")
    return {key: settings[key] for key in keys}


def _prepare_streams() -> None:
    """Text the tool prints never fails to encode; stdin is /dev/null once the request is read."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def main(argv: list[str]) -> int:
    try:
        settings = _read_settings(argv)
    except (IndexError, ValueError) as exc:
        print(f"agentbatch sandbox: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    result_fd = settings["result_fd"]
    os.set_inheritable(result_fd, False)  # processes the tool starts do not get the channel
    if settings["init"]:
        become_init()
    try:
        apply_limits(settings)
        drop_privileges(settings["uid"])
    except (OSError, ValueError) as exc:
        report(result_fd, "error", f"could not apply the sandbox limits: {exc}")
        return EXIT_BAD_SETTINGS
    os.environ.pop("PWD", None)  # bubblewrap's --chdir sets it; the tool sees only what the server gave
    raw_request = sys.stdin.buffer.read()
    _prepare_streams()
    sys.argv = [TOOL_FILENAME]
    status, value = run_tool(raw_request, settings["memory_bytes"])
    report(result_fd, status, truncate(value, settings["max_value_bytes"]))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
