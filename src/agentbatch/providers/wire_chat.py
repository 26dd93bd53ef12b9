"""A chat model as two halves: the wire format of its protocol (``openai_wire``, ``anthropic_wire``) and a
transport that posts a JSON body: our HTTP client (``http_transport``), or the provider's SDK in this
process or in a provider process (``process_pool``) so the SDK's CPU cost runs on another core."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from agentbatch.providers import anthropic_wire, openai_wire
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.errors import parse_json
from agentbatch.providers.http_transport import HttpTransport
from agentbatch.providers.sdk_clients import SdkTransport


class Transport(Protocol):
    async def post_json(self, body: bytes) -> bytes:
        """POST the encoded request; the reply's bytes, or a ``ProviderError``."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class WireFormat:
    request_body: Callable[[ModelRequest], dict[str, Any]]
    parse_response: Callable[[Any], ModelResponse]


WIRE_FORMATS = {
    WireProtocol.OPENAI: WireFormat(openai_wire.request_body, openai_wire.parse_response),
    WireProtocol.ANTHROPIC: WireFormat(anthropic_wire.request_body, anthropic_wire.parse_response),
}


class WireChat:
    """``ChatModel``: translate, post through the transport, translate back."""

    def __init__(self, wire: WireFormat, transport: Transport) -> None:
        self._wire = wire
        self.transport = transport

    @classmethod
    def in_process(cls, protocol: WireProtocol, *, base_url: str | None, api_key: str | None) -> "WireChat":
        """The protocol over its vendor's SDK client in this process (``sdk_clients``)."""
        return cls(WIRE_FORMATS[protocol], SdkTransport(protocol, base_url=base_url, api_key=api_key))

    @classmethod
    def over_http(cls, protocol: WireProtocol, *, base_url: str | None, api_key: str | None) -> "WireChat":
        """The protocol over our HTTP client in this process (``http_transport``)."""
        return cls(WIRE_FORMATS[protocol], HttpTransport.of(protocol, base_url=base_url, api_key=api_key))

    async def complete(self, request: ModelRequest) -> ModelResponse:
        reply = await self.transport.post_json(orjson.dumps(self._wire.request_body(request)))
        return self._wire.parse_response(parse_json(reply))

    async def close(self) -> None:
        await self.transport.close()
