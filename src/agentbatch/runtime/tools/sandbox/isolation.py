"""How tool calls are isolated, and whether this machine can isolate them.

``SandboxIsolation`` is the operator's choice (from ``Settings``); ``probe`` asks the machine once whether
bubblewrap can make the namespaces. When it cannot, tool calls fail with ``refusal`` naming the problem
and the settings, unless the operator opted into the unsafe plain-subprocess mode.
"""

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from agentbatch.runtime.tools.sandbox.bwrap import BwrapPlan, bwrap_command

BWRAP_SETTING = "AGENTBATCH_TOOL_SANDBOX_BWRAP"
UNSAFE_SETTING = "AGENTBATCH_UNSAFE_SANDBOX_WITHOUT_ISOLATION"
PROBE_TIMEOUT_S = 10.0
# A machine that could not isolate is asked again after this long (bubblewrap may have been installed,
# or the first probe may have timed out on a busy machine); one that could is never asked again.
PROBE_RETRY_S = 30.0
# The tag a tool carries to declare that it needs the network (tools have tags, set on creation and
# update through Letta's API; they have no metadata a client can set).
NETWORK_TAG = "sandbox:network"


def needs_network(tags: Sequence[str]) -> bool:
    """Whether a tool with these tags is declared to need the network."""
    return NETWORK_TAG in tags


@dataclass(frozen=True, slots=True)
class SandboxIsolation:
    bwrap: str = "bwrap"  # a path, or a name looked up on PATH
    unsafe_without_isolation: bool = False
    max_processes: int = 64
    uid_base: int = 1_800_000_000  # only used when the server runs as root

    def __post_init__(self) -> None:
        if self.max_processes < 2:
            raise ValueError(f"max_processes must be at least 2, not {self.max_processes!r}")


@dataclass(frozen=True, slots=True)
class IsolationCheck:
    """What the machine answered: the bwrap executable to use, or why there is none."""

    executable: str | None
    problem: str | None


def refusal(isolation: SandboxIsolation, problem: str) -> str:
    """The error a refused tool call returns (and ``serve`` logs): the problem and what to set."""
    return (
        f"custom tools are disabled on this server: {problem}. Install bubblewrap (apt-get install "
        f"bubblewrap) or point {BWRAP_SETTING} at it; or, accepting that tools can then read the server's "
        f"secrets and files, set {UNSAFE_SETTING}=true"
    )


def probe(isolation: SandboxIsolation) -> IsolationCheck:
    """Whether bubblewrap exists here and can create the sandbox's namespaces, by running it once.
    Blocking: call it from a thread in async code."""
    bwrap, as_root = isolation.bwrap, os.geteuid() == 0
    executable = shutil.which(bwrap)
    if executable is None:
        return IsolationCheck(None, f"bubblewrap was not found at {bwrap!r} ({BWRAP_SETTING})")
    plan = BwrapPlan(executable=executable, scratch=None, network=False, as_root=as_root)
    try:
        completed = subprocess.run(
            [*bwrap_command(plan), "/bin/true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            env={"PATH": "/usr/bin:/bin"},
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return IsolationCheck(None, f"bubblewrap at {executable!r} could not be started: {exc}")
    if completed.returncode != 0:
        said = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = said[-1] if said else f"exit code {completed.returncode}"
        return IsolationCheck(None, f"bubblewrap at {executable!r} cannot create namespaces here: {reason}")
    return IsolationCheck(executable, None)
