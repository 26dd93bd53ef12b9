"""Log lines a person and a log shipper can both read: ``key=value`` pairs or one JSON object a line.

Every record gets a time, level and logger; events from ``engine/events.py`` carry ``event=`` and their
fields; other records carry ``msg=``. ``configure_logging`` installs it on the root logger.
"""

import logging
import sys
from datetime import UTC, datetime
from typing import Literal

import orjson

from agentbatch.engine.events import FIELDS_ATTRIBUTE

LogFormat = Literal["kv", "json"]
_QUIET = (
    "alembic",
    "httpx",
    "httpx2",
    "httpcore",
    "openai",
    "anthropic",
    "aiosqlite",
    "asyncio",
    "uvicorn.error",
)


class EventFormatter(logging.Formatter):
    def __init__(self, style: LogFormat = "kv") -> None:
        super().__init__()
        self._layout = style

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        extra = getattr(record, FIELDS_ATTRIBUTE, None)
        if isinstance(extra, dict):
            fields["event"] = record.getMessage()
            fields.update(extra)
        else:
            fields["msg"] = record.getMessage()
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        if self._layout == "json":
            return orjson.dumps(fields, default=str).decode()
        return " ".join(f"{key}={_kv_value(value)}" for key, value in fields.items())


def _kv_value(value: object) -> str:
    text = "" if value is None else str(value)
    if text and not any(char in text for char in ' "=\n\t'):
        return text
    return orjson.dumps(text).decode()


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record arrives (it may have been replaced)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str, style: LogFormat) -> None:
    """Root logger at ``level`` writing to stderr in ``style``; chatty libraries at warning or above."""
    handler = StderrHandler()
    handler.setFormatter(EventFormatter(style))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
