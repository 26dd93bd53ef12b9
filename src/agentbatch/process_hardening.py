"""Hardening every server process applies to itself at start: ``PR_SET_DUMPABLE=0``.

A process that is not dumpable writes no core file, cannot be attached to with ``ptrace`` by processes of
the same user, and its ``/proc/<pid>/`` files (``environ``, ``mem``, ``fd/``...) belong to root, so
another process of the server's user cannot read its environment (the API keys, the provider keys, the
callback secret). For a server running as root this alone binds nothing — root reads everything — which
is why custom tools also run in namespaces of their own (see ``runtime/tools/sandbox``).

Standard library only: it is imported by the CLI and by the provider child processes alike.
"""

import ctypes
import ctypes.util
import logging
import sys

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3

log = logging.getLogger(__name__)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


def forbid_inspection() -> bool:
    """Make this process non-dumpable. Whether it is now; never raises (off Linux it is a no-op)."""
    libc = _libc()
    if libc is None:
        return False
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("could not set PR_SET_DUMPABLE=0: errno %d", ctypes.get_errno())
        return False
    return True


def is_dumpable() -> bool | None:
    """Whether this process is dumpable; None where that cannot be asked (not Linux)."""
    libc = _libc()
    if libc is None:
        return None
    return bool(libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
