"""NUL characters on their way into the database.

PostgreSQL's TEXT and JSONB cannot hold U+0000 (TEXT refuses the byte, JSONB the ``\\u0000`` escape),
yet a tool may return one and a model may produce one in its text or in a tool call's arguments. Every
NUL written by the store therefore becomes U+FFFD, the REPLACEMENT CHARACTER, in text and in JSON alike,
on SQLite too, so a history reads back the same on both databases. Only the NUL itself is lost; every
other character, and where the NUL stood, is kept.

Applied in one place per write path: the JSON serializer of the engine and every statement's string
parameters (``database.py``), and the encoders of bulk inserts (``bulk.py``).
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

NUL = "\x00"
ESCAPED_NUL = b"\\u0000"
"""How orjson writes a NUL (or, preceded by an escaped backslash, the literal text ``\\u0000``)."""
REPLACEMENT = "\ufffd"
# ``\u0000`` in orjson's output, not preceded by an escaped backslash (``\\u0000`` is literal text).
_ESCAPED_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def scrub_text(value: str) -> str:
    return value.replace(NUL, REPLACEMENT) if NUL in value else value


def dumps_json(value: Any) -> str:
    """JSON text for a JSON/JSONB column, with every NUL in its strings (and keys) replaced."""
    encoded = orjson.dumps(value)
    if ESCAPED_NUL in encoded:
        encoded = _ESCAPED_NUL.sub(rb"\1\\ufffd", encoded)
    return encoded.decode()


def scrub_parameters(parameters: Any, many: bool) -> Any:
    """A statement's bound parameters (one set, or many for executemany) with NULs replaced in strings;
    the same object when there is none (the common case costs one scan)."""
    if many and isinstance(parameters, Sequence):
        if not any(_has_nul(one) for one in parameters):
            return parameters
        return [_scrubbed(one) for one in parameters]
    return _scrubbed(parameters) if _has_nul(parameters) else parameters


def _has_nul(parameters: Any) -> bool:
    values = parameters.values() if isinstance(parameters, Mapping) else parameters
    if not isinstance(values, Sequence) and not isinstance(parameters, Mapping):
        return False
    return any(isinstance(value, str) and NUL in value for value in values)


def _scrubbed(parameters: Any) -> Any:
    if isinstance(parameters, Mapping):
        return {key: scrub_text(v) if isinstance(v, str) else v for key, v in parameters.items()}
    scrubbed = [scrub_text(v) if isinstance(v, str) else v for v in parameters]
    return tuple(scrubbed) if isinstance(parameters, tuple) else scrubbed
