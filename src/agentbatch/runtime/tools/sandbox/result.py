"""What one tool call came to, and how the ways a child can end read to the LLM."""

import signal
from dataclasses import dataclass, field
from typing import Literal

SandboxStatus = Literal["success", "error"]

_SIGNAL_HINTS = {
    int(signal.SIGXCPU): "it used up its CPU time",
    int(signal.SIGXFSZ): "it wrote a file over the size limit",
    int(signal.SIGSEGV): "it crashed",
}


@dataclass(frozen=True, slots=True)
class SandboxResult:
    status: SandboxStatus
    # The function's return value rendered as a string; on error a one-line explanation for the LLM.
    return_value: str
    stdout: list[str] = field(default_factory=list)  # lines the tool printed
    stderr: list[str] = field(default_factory=list)


def timed_out(timeout_s: float) -> str:
    return f"tool timed out after {float(timeout_s)} s"


def died(returncode: int) -> str:
    """Why a child that never reported a result ended, from its wait status (negative = signal)."""
    if returncode < 0:
        number = -returncode
        hint = _SIGNAL_HINTS.get(number)
        return f"tool process died (signal {number})" + (f": {hint}" if hint else "")
    if returncode == 0:
        return "tool produced no result"
    return f"tool produced no result (exit code {returncode})"
