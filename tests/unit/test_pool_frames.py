"""A provider error crosses the provider-process boundary as the same kind of error, by a wire name."""

import asyncio

import pytest

from agentbatch.providers.errors import (
    InvalidResponse,
    ProviderError,
    ProviderRejected,
    ProviderTimedOut,
    ProviderUnavailable,
    ProviderUnreachable,
    RateLimited,
)
from agentbatch.providers.process_pool.frames import FrameHeader, FrameOp, WireError, read_frame, write_frame


class _Writer:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data


async def _cross(error: ProviderError) -> ProviderError:
    writer = _Writer()
    write_frame(writer, FrameHeader(7, FrameOp.ERROR, error=WireError.of(error)))  # type: ignore[arg-type]
    reader = asyncio.StreamReader()
    reader.feed_data(writer.data)
    header, _body = await read_frame(reader)
    assert header.id == 7 and header.op is FrameOp.ERROR and header.error is not None
    return header.error.to_error()


@pytest.mark.parametrize(
    "cls",
    [
        ProviderError,
        RateLimited,
        ProviderUnavailable,
        ProviderUnreachable,
        ProviderTimedOut,
        ProviderRejected,
        InvalidResponse,
    ],
)
async def test_every_provider_error_crosses_as_itself(cls: type[ProviderError]) -> None:
    crossed = await _cross(cls("the provider said no", status=503, retry_after=1.5))
    assert type(crossed) is cls
    assert (str(crossed), crossed.status, crossed.retry_after) == ("the provider said no", 503, 1.5)


async def test_an_unlisted_subclass_keeps_its_retry_behaviour() -> None:
    class QuotaExhausted(RateLimited):
        pass

    crossed = await _cross(QuotaExhausted("slow down", status=429, retry_after=2.0))
    assert isinstance(crossed, RateLimited) and crossed.retryable and crossed.pauses_provider


async def test_a_reply_frame_carries_its_body_untouched() -> None:
    writer = _Writer()
    write_frame(writer, FrameHeader(3, FrameOp.OK), b'{"id": "x"}')  # type: ignore[arg-type]
    reader = asyncio.StreamReader()
    reader.feed_data(writer.data)
    header, body = await read_frame(reader)
    assert (header.id, header.op, header.error, body) == (3, FrameOp.OK, None, b'{"id": "x"}')


def test_an_unknown_error_kind_reads_as_a_provider_error() -> None:
    header = FrameHeader.decode(
        b'{"id": 1, "op": "error", "error": ["from_a_newer_child", "odd", null, null]}'
    )
    assert header.error is not None and type(header.error.to_error()) is ProviderError
