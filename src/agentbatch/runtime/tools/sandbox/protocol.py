"""The parent's side of the protocol with ``child.py``: the request it sends, the report it reads back."""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from agentbatch.runtime.tools.sandbox.capture import Captured
from agentbatch.runtime.tools.sandbox.result import SandboxStatus

# JSON escapes can make the report several times longer than the value it carries (``\u0001``).
REPORT_EXPANSION = 6
REPORT_OVERHEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Report:
    status: SandboxStatus
    value: str


def encode_request(source_code: str, function_name: str, arguments: Mapping[str, object]) -> bytes:
    """Raises TypeError or ValueError if the arguments are not JSON-serialisable."""
    request = {"source": source_code, "function": function_name, "arguments": dict(arguments)}
    return json.dumps(request).encode("ascii")


def report_cap(max_output_bytes: int) -> int:
    return max_output_bytes * REPORT_EXPANSION + REPORT_OVERHEAD_BYTES


def parse_report(captured: Captured) -> Report | None:
    """The child's report; None if it wrote nothing, an error report if what it wrote is not one."""
    if not captured.data and not captured.truncated:
        return None
    malformed = Report("error", "tool produced a malformed result")
    if captured.truncated:
        return malformed
    try:
        report = json.loads(captured.data)
    except ValueError:
        return malformed
    if not isinstance(report, dict) or report.get("status") not in ("success", "error"):
        return malformed
    value = report.get("value")
    if not isinstance(value, str):
        return malformed
    status: SandboxStatus = "success" if report["status"] == "success" else "error"
    return Report(status, _valid_utf8(value))


def _valid_utf8(text: str) -> str:
    """Lone surrogates (``\\udc80`` is valid JSON) would break whoever encodes the value later."""
    return text.encode("utf-8", errors="replace").decode("utf-8")
