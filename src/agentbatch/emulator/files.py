"""In-memory OpenAI files: batch inputs uploaded by clients and batch outputs written by the emulator."""

import itertools
import time
from dataclasses import dataclass
from typing import Any

from agentbatch.emulator.ids import sequential_id

PURPOSES = frozenset(
    {
        "assistants",
        "assistants_output",
        "batch",
        "batch_output",
        "fine-tune",
        "fine-tune-results",
        "vision",
        "user_data",
    }
)
_THIRTY_DAYS_S = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def to_json(self) -> dict[str, Any]:
        """The OpenAI ``file`` object."""
        expires = self.created_at + _THIRTY_DAYS_S if self.purpose in ("batch", "batch_output") else None
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": expires,
            "status_details": None,
        }


class FileStore:
    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._numbers = itertools.count(1)

    def add(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        file_id = sequential_id("file-", "file", next(self._numbers))
        stored = StoredFile(file_id, filename, purpose, data, int(time.time()))
        self._files[file_id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def delete(self, file_id: str) -> bool:
        return self._files.pop(file_id, None) is not None

    def newest_first(self, purpose: str | None = None) -> list[StoredFile]:
        return [stored for stored in reversed(self._files.values()) if purpose in (None, stored.purpose)]

    def clear(self) -> None:
        self._files.clear()
