"""Frames between the engine and its provider processes: ``[header length][body length][header][body]``,
the header a small JSON object, the body raw bytes (a request or reply body, never re-encoded)."""

import asyncio
import struct
from typing import Any

import orjson

from agentbatch.providers.errors import (
    InvalidResponse,
    ProviderError,
    ProviderRejected,
    ProviderTimedOut,
    ProviderUnavailable,
    ProviderUnreachable,
    RateLimited,
)

_PREFIX = struct.Struct("!II")
_ERRORS: dict[str, type[ProviderError]] = {
    cls.__name__: cls
    for cls in (
        ProviderError,
        RateLimited,
        ProviderUnavailable,
        ProviderUnreachable,
        ProviderTimedOut,
        ProviderRejected,
        InvalidResponse,
    )
}


def write_frame(writer: asyncio.StreamWriter, header: dict[str, Any], body: bytes = b"") -> None:
    encoded = orjson.dumps(header)
    writer.write(_PREFIX.pack(len(encoded), len(body)) + encoded + body)


async def read_frame(reader: asyncio.StreamReader) -> tuple[dict[str, Any], bytes]:
    header_size, body_size = _PREFIX.unpack(await reader.readexactly(_PREFIX.size))
    header = orjson.loads(await reader.readexactly(header_size))
    body = await reader.readexactly(body_size) if body_size else b""
    return header, body


def error_header(error: ProviderError) -> dict[str, Any]:
    return {
        "kind": type(error).__name__,
        "message": str(error),
        "status": error.status,
        "retry_after": error.retry_after,
    }


def error_from_header(header: dict[str, Any]) -> ProviderError:
    cls = _ERRORS.get(header.get("kind", ""), ProviderError)
    return cls(
        str(header.get("message", "")), status=header.get("status"), retry_after=header.get("retry_after")
    )
