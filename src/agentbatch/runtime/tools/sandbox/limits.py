"""How much one tool call may use, and the resource limits the child derives from it."""

import math
from dataclasses import dataclass

MIB = 1024 * 1024

# Not per-call settings: generous enough for any reasonable tool, small enough to protect the host.
OPEN_FILES_LIMIT = 256
FILE_SIZE_LIMIT_BYTES = 64 * MIB
# CPU seconds allowed beyond the wall-clock timeout before the kernel steps in on its own. The parent's
# wall-clock kill normally comes first; the CPU limit is the backstop should the parent be starved.
CPU_SLACK_S = 1


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    timeout_s: float = 30.0  # wall clock for the whole call
    memory_mb: int = 512  # address-space limit of the child (RLIMIT_AS)
    max_output_bytes: int = 1_000_000  # stdout/stderr/return captured beyond this are truncated

    def __post_init__(self) -> None:
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ValueError(f"timeout_s must be a positive number of seconds, not {self.timeout_s!r}")
        if self.memory_mb <= 0:
            raise ValueError(f"memory_mb must be positive, not {self.memory_mb!r}")
        if self.max_output_bytes <= 0:
            raise ValueError(f"max_output_bytes must be positive, not {self.max_output_bytes!r}")


def child_settings(
    limits: SandboxLimits, result_fd: int, *, max_processes: int = 0, uid: int = -1, init: bool = False
) -> dict[str, int]:
    """What the child bootstrap needs before it runs any user code (see ``child.py``).

    ``max_processes`` 0 leaves ``RLIMIT_NPROC`` alone; ``uid`` -1 keeps the uid the child starts with;
    ``init``: the child is PID 1 of its namespace and must reap.
    """
    cpu_s = math.ceil(limits.timeout_s) + CPU_SLACK_S
    return {
        "result_fd": result_fd,
        "memory_bytes": limits.memory_mb * MIB,
        "cpu_seconds": cpu_s,
        "open_files": OPEN_FILES_LIMIT,
        "file_bytes": FILE_SIZE_LIMIT_BYTES,
        "max_processes": max_processes,
        "uid": uid,
        "init": int(init),
        "max_value_bytes": limits.max_output_bytes,
    }
