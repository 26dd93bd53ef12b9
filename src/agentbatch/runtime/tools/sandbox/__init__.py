"""The sandbox that runs one custom-tool call out of process: bubblewrap namespaces (PID, mount,
network, IPC, UTS, and a user namespace or an unprivileged uid of its own), a fresh interpreter, a
scrubbed environment, a private scratch directory, resource limits (memory, CPU, processes, files), a
wall-clock timeout that kills every process of the call, and a result channel the tool's own output
cannot forge. Every failure is a ``SandboxResult``.

``child.py`` is the bootstrap the child runs; it is never imported by the parent.
"""

from agentbatch.runtime.tools.sandbox.isolation import NETWORK_TAG, SandboxIsolation, needs_network
from agentbatch.runtime.tools.sandbox.limits import SandboxLimits
from agentbatch.runtime.tools.sandbox.result import SandboxResult, SandboxStatus
from agentbatch.runtime.tools.sandbox.sandbox import ToolSandbox

__all__ = [
    "NETWORK_TAG",
    "SandboxIsolation",
    "SandboxLimits",
    "SandboxResult",
    "SandboxStatus",
    "ToolSandbox",
    "needs_network",
]
