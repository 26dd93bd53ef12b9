"""Per model handle, what may be in flight at once, from the providers file::

    [quotas."openai/gpt-4o-mini"]
    max_open_requests = 50000      # provider-batch lane: requests in open provider batches
    max_open_tokens = 20000000     # provider-batch lane: their estimated input tokens
    requests_per_minute = 500      # direct calls
    tokens_per_minute = 200000     # direct calls: estimated input tokens

Every key is optional; an absent one does not limit. ``[lane_quotas."…"]`` (the earlier name) is read
the same way. The lane's limits hold across every process (they are checked against the database's open
provider batches); the direct limits are shared by the live workers, each taking an equal part.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

_KEYS = ("max_open_requests", "max_open_tokens", "requests_per_minute", "tokens_per_minute")
BYTES_PER_TOKEN = 4
"""The estimate of a request's tokens: its JSON body's bytes over this (OpenAI's rule of thumb)."""


@dataclass(frozen=True, slots=True)
class ModelQuota:
    max_open_requests: int | None = None
    max_open_tokens: int | None = None
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None

    def __post_init__(self) -> None:
        for name in _KEYS:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"quota {name} must be at least 1, got {value}")


def estimated_tokens(body_bytes: int) -> int:
    """The input tokens of a request whose wire body has this many bytes (an upper-side estimate)."""
    return body_bytes // BYTES_PER_TOKEN + 1


def load_quotas(path: Path | None) -> dict[str, ModelQuota]:
    """``provider/model`` → its quota (absent: unbounded)."""
    if path is None:
        return {}
    document = tomllib.loads(path.read_text())
    found: dict[str, ModelQuota] = {}
    for section in ("lane_quotas", "quotas"):
        for handle, entry in document.get(section, {}).items():
            unknown = set(entry) - set(_KEYS)
            if unknown:
                raise ValueError(
                    f"[{section}.{handle!r}]: unknown keys {sorted(unknown)}; known: {list(_KEYS)}"
                )
            earlier = found.get(handle, ModelQuota())
            values = {
                name: _count(section, handle, name, entry.get(name, getattr(earlier, name))) for name in _KEYS
            }
            found[handle] = ModelQuota(**values)
    return found


def _count(section: str, handle: str, name: str, value: object) -> int | None:
    """A quota value: a whole number of at least 1 (TOML's ``true`` and ``1.5`` are not one)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"[{section}.{handle!r}]: {name} must be a whole number of at least 1, got {value!r}"
        )
    return value
