"""The bubblewrap command line that puts one tool call in namespaces of its own.

What the sandbox holds (docs/decisions/0004-tool-sandbox.md says why each piece is there):

* PID namespace whose PID 1 is the bootstrap's own reaper (``--as-pid-1``, ``child.py``): the tool sees
  only its own processes, and when the call ends every process it started dies with it, before
  bubblewrap exits (``--die-with-parent`` kills the namespace when the server side goes away first).
* Mount namespace on an empty root: ``/usr`` and the ``/lib*``, ``/bin`` links, the interpreter's prefix
  and a few files of ``/etc`` read-only; a fresh ``/proc`` of the PID namespace; a minimal ``/dev``;
  a size-capped tmpfs ``/tmp``; the call's scratch directory read-write at ``/scratch``. Nothing of the
  server (its working directory, database file, configuration) is there to read or write.
* Network namespace with only a loopback of its own, unless the tool is declared to need the network.
* IPC and UTS namespaces, ``--new-session`` (no terminal injection), and a user namespace when the
  server is not root. When it is root, bwrap runs privileged with every capability dropped but the two
  the bootstrap needs to switch to the call's own unprivileged uid (``child.py``), so that
  ``RLIMIT_NPROC`` binds.
"""

import os
from dataclasses import dataclass
from pathlib import Path

SCRATCH = "/scratch"
HOSTNAME = "agentbatch-tool"
TMP_BYTES = 64 * 1024 * 1024
# Top-level entries that are links into /usr on merged-/usr systems, or directories on older ones.
ROOT_ENTRIES = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# What name resolution, TLS and time zones need; nothing with secrets.
ETC_FILES = (
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/localtime",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
)


@dataclass(frozen=True, slots=True)
class BwrapPlan:
    executable: str
    scratch: Path | None  # the call's directory on the host; None for the availability probe
    network: bool
    as_root: bool
    # Bound read-only where not under /usr: the interpreter's prefix, and its virtualenv if it has one.
    interpreter_prefixes: tuple[Path, ...] = ()
    tmp_bytes: int = TMP_BYTES


def bwrap_command(plan: BwrapPlan) -> list[str]:
    """``bwrap`` and its options; the command to run inside follows."""
    args = [plan.executable, "--die-with-parent", "--new-session", "--as-pid-1"]
    args += [
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        HOSTNAME,
    ]
    if not plan.network:
        args.append("--unshare-net")
    if plan.as_root:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    args += _filesystem(plan)
    return args


def _filesystem(plan: BwrapPlan) -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ROOT_ENTRIES:
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    size = str(plan.tmp_bytes)
    args += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    args += ["--perms", "1777", "--size", size, "--tmpfs", "/dev/shm"]
    # After the tmpfs mounts, so an interpreter or virtualenv that lives under /tmp (a checkout there)
    # is bound on top of the call's empty /tmp instead of being hidden by it.
    for prefix in plan.interpreter_prefixes:
        if _under(prefix, Path("/usr")):
            continue
        for parent in reversed(prefix.parents):
            if parent not in _MOUNTED:
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", str(prefix), str(prefix)]
    if plan.scratch is not None:
        args += ["--bind", str(plan.scratch), SCRATCH, "--chdir", SCRATCH]
    else:
        args += ["--chdir", "/"]
    return args


_MOUNTED = frozenset(Path(path) for path in ("/", "/tmp", "/dev", "/dev/shm", "/proc"))
"""Directories the command has already mounted: never re-created as plain directories."""


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def interpreter_prefixes(python: str) -> tuple[Path, ...]:
    """What must be bound for ``python`` to start: the prefix of the real interpreter behind it (the
    directory above its ``bin``) and, when ``python`` is a virtualenv's, that virtualenv, so a tool
    imports the packages it imported before the sandbox had namespaces. Nothing else of the directory
    the virtualenv sits in is bound."""
    real = os.path.realpath(python)
    if not os.access(real, os.X_OK):
        raise FileNotFoundError(f"no Python interpreter at {python!r}")
    prefixes = [Path(real).parent.parent]
    venv = Path(os.path.abspath(python)).parent.parent
    if (venv / "pyvenv.cfg").is_file():
        prefixes.append(venv)
    if Path("/") in prefixes:
        raise FileNotFoundError(f"the interpreter {python!r} has no prefix to bind (it lives in /bin)")
    return tuple(prefixes)
