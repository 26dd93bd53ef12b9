"""What the host sees of sandboxed tool calls.

Inside bubblewrap a tool sees its own PID namespace and ``/scratch``: the host finds what a call left
by the namespace the tool reports (``os.readlink('/proc/self/ns/pid')``) and by a marker file it writes
into its scratch directory.
"""

import os
import tempfile
import uuid
from pathlib import Path

# Tool source that reads the call's PID namespace, e.g. ``pid:[4026532712]``.
READ_NAMESPACE = "os.readlink('/proc/self/ns/pid')"


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def process_running(pid: int) -> bool:
    """A zombie waiting for a reaper does not count: it runs nothing and holds nothing open."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def pid_namespace_alive(namespace: str) -> bool:
    """Whether any running process on the host is still in this PID namespace (``pid:[...]``)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") == namespace and process_running(int(entry)):
                return True
        except OSError:
            continue
    return False


def scratch_files(marker: str) -> list[Path]:
    """Files named ``marker`` in any tool scratch directory on the host."""
    return list(Path(tempfile.gettempdir()).glob(f"agentbatch-tool-*/{marker}"))


def new_marker() -> str:
    return f"marker-{uuid.uuid4().hex}"


def exists_on_host(path: str) -> bool:
    return Path(path).exists()
