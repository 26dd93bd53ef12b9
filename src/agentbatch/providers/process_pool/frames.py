"""Frames between the engine and its provider processes: ``[header length][body length][header][body]``,
the header a small JSON object, the body raw bytes (a request or reply body, never re-encoded).

A header is a typed ``FrameHeader``; a failed call's header carries an ``ErrorKind`` — a closed set of
wire names, one per class of the provider error tree — so an error crosses the boundary as the same class
with its status and ``retry_after``, whatever Python names the classes. A subclass not on the wire crosses
as its nearest listed ancestor (a rate limit stays a rate limit); an unknown kind reads as ``ProviderError``.
"""

import asyncio
import struct
from dataclasses import dataclass
from enum import StrEnum

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


class FrameOp(StrEnum):
    CALL = "call"  # engine → child: post ``body`` to ``provider``
    CANCEL = "cancel"  # engine → child: abandon call ``id``
    OK = "ok"  # child → engine: the reply body
    ERROR = "error"  # child → engine: the call failed with ``error``


class ErrorKind(StrEnum):
    PROVIDER = "provider"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    UNREACHABLE = "unreachable"
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"
    INVALID_RESPONSE = "invalid_response"


_CLASS_OF: dict[ErrorKind, type[ProviderError]] = {
    ErrorKind.PROVIDER: ProviderError,
    ErrorKind.RATE_LIMITED: RateLimited,
    ErrorKind.UNAVAILABLE: ProviderUnavailable,
    ErrorKind.UNREACHABLE: ProviderUnreachable,
    ErrorKind.TIMED_OUT: ProviderTimedOut,
    ErrorKind.REJECTED: ProviderRejected,
    ErrorKind.INVALID_RESPONSE: InvalidResponse,
}
_KIND_OF: dict[type[ProviderError], ErrorKind] = {cls: kind for kind, cls in _CLASS_OF.items()}


@dataclass(frozen=True, slots=True)
class WireError:
    """A ``ProviderError`` as it crosses the process boundary."""

    kind: ErrorKind
    message: str
    status: int | None = None
    retry_after: float | None = None

    @classmethod
    def of(cls, error: ProviderError) -> "WireError":
        kind = next(_KIND_OF[ancestor] for ancestor in type(error).__mro__ if ancestor in _KIND_OF)
        return cls(kind, str(error), error.status, error.retry_after)

    def to_error(self) -> ProviderError:
        return _CLASS_OF[self.kind](self.message, status=self.status, retry_after=self.retry_after)


@dataclass(frozen=True, slots=True)
class FrameHeader:
    id: int
    op: FrameOp
    provider: str = ""
    error: WireError | None = None

    def encode(self) -> bytes:
        fields: dict[str, object] = {"id": self.id, "op": self.op.value}
        if self.provider:
            fields["provider"] = self.provider
        if self.error is not None:
            error = self.error
            fields["error"] = [error.kind.value, error.message, error.status, error.retry_after]
        return orjson.dumps(fields)

    @classmethod
    def decode(cls, raw: bytes) -> "FrameHeader":
        fields = orjson.loads(raw)
        error = None
        if (wire := fields.get("error")) is not None:
            kind, message, status, retry_after = wire
            known = kind in ErrorKind._value2member_map_
            error = WireError(
                ErrorKind(kind) if known else ErrorKind.PROVIDER, str(message), status, retry_after
            )
        return cls(int(fields["id"]), FrameOp(fields["op"]), str(fields.get("provider", "")), error)


def write_frame(writer: asyncio.StreamWriter, header: FrameHeader, body: bytes = b"") -> None:
    encoded = header.encode()
    writer.write(_PREFIX.pack(len(encoded), len(body)) + encoded + body)


async def read_frame(reader: asyncio.StreamReader) -> tuple[FrameHeader, bytes]:
    header_size, body_size = _PREFIX.unpack(await reader.readexactly(_PREFIX.size))
    header = FrameHeader.decode(await reader.readexactly(header_size))
    body = await reader.readexactly(body_size) if body_size else b""
    return header, body
