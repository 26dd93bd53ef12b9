"""The sandbox that runs one custom-tool call out of process: fresh interpreter, scrubbed environment,
private temporary directory, resource limits, a wall-clock timeout that kills the whole process group,
and a result channel the tool's own output cannot forge. Every failure is a ``SandboxResult``.

``child.py`` is the bootstrap the child runs; it is never imported by the parent.
"""

from agentbatch.runtime.sandbox.limits import SandboxLimits
from agentbatch.runtime.sandbox.result import SandboxResult, SandboxStatus
from agentbatch.runtime.sandbox.sandbox import ToolSandbox

__all__ = ["SandboxLimits", "SandboxResult", "SandboxStatus", "ToolSandbox"]
