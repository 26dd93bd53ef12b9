"""Failures below HTTP are named by what happened: a refused connection never reads "timed out"."""

import socket

import pytest

from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import ProviderTimedOut, ProviderUnreachable, transport_failure
from agentbatch.providers.sdk_clients import SdkTransport


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
async def test_a_refused_connection_is_named_as_refused_and_pauses_the_provider(sdk: str) -> None:
    port = _closed_port()
    if sdk == "openai":
        transport = SdkTransport(WireProtocol.OPENAI, base_url=f"http://127.0.0.1:{port}/v1", api_key="k")
    else:
        transport = SdkTransport(WireProtocol.ANTHROPIC, base_url=f"http://127.0.0.1:{port}", api_key="k")
    try:
        with pytest.raises(ProviderUnreachable) as raised:
            await transport.post_json(b"{}")
    finally:
        await transport.close()
    assert "connection refused" in str(raised.value)
    assert "timed out" not in str(raised.value).lower()
    assert raised.value.retryable and raised.value.pauses_provider


def test_a_timeout_is_named_as_a_timeout() -> None:
    class ReadTimeout(Exception):
        pass

    try:
        try:
            raise ReadTimeout("no bytes for 600 s")
        except ReadTimeout as inner:
            raise RuntimeError("Request timed out.") from inner
    except RuntimeError as outer:
        failure = transport_failure(outer)
    assert isinstance(failure, ProviderTimedOut) and failure.pauses_provider
    assert "did not answer in time" in str(failure) and "ReadTimeout" in str(failure)


def test_a_dropped_connection_is_named_as_such() -> None:
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError as inner:
            raise RuntimeError("Connection error.") from inner
    except RuntimeError as outer:
        failure = transport_failure(outer)
    assert isinstance(failure, ProviderUnreachable)
    assert "Connection reset by peer" in str(failure) and "timed out" not in str(failure)
