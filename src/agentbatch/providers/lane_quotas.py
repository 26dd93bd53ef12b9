"""How many provider-batch requests may be open at once per model handle, from the providers file::

[lane_quotas."openai/gpt-4o-mini"]
max_open_requests = 50000
"""

import tomllib
from pathlib import Path


def load_lane_quotas(path: Path | None) -> dict[str, int]:
    """``provider/model`` → the most lane requests this process keeps open for it (absent: unbounded)."""
    if path is None:
        return {}
    document = tomllib.loads(path.read_text())
    return {
        handle: int(entry["max_open_requests"])
        for handle, entry in document.get("lane_quotas", {}).items()
        if "max_open_requests" in entry
    }
