"""The two adapters under test, as one parametrisable shape (fixtures live in conftest.py)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentbatch.emulator.server import EmulatorThread
from agentbatch.providers import anthropic_wire, openai_wire
from agentbatch.providers.base import ChatModel, ModelRequest
from agentbatch.providers.catalog import WireProtocol
from agentbatch.providers.wire_chat import WireChat
from tests.integration.providers.provider_wire_rules import anthropic_violations, openai_violations


@dataclass(frozen=True)
class Provider:
    """One wire protocol: how to build its adapter and read what the emulator saw of it."""

    name: str
    endpoint: str
    """The emulator's statistics key for this protocol's model endpoint."""
    build: Callable[[str], ChatModel]
    """An adapter for the emulator (or any server) at this base URL (``http://host:port``)."""
    body: Callable[[ModelRequest], dict[str, Any]]
    violations: Callable[[dict[str, Any]], list[str]]


def _openai_http(base: str) -> ChatModel:
    return WireChat.over_http(WireProtocol.OPENAI, base_url=f"{base}/v1", api_key="test")


def _anthropic_http(base: str) -> ChatModel:
    return WireChat.over_http(WireProtocol.ANTHROPIC, base_url=base, api_key="test")


def _openai_sdk(base: str) -> ChatModel:
    return WireChat.in_process(WireProtocol.OPENAI, base_url=f"{base}/v1", api_key="test")


def _anthropic_sdk(base: str) -> ChatModel:
    return WireChat.in_process(WireProtocol.ANTHROPIC, base_url=base, api_key="test")


_OPENAI = "POST /v1/chat/completions"
_ANTHROPIC = "POST /v1/messages"
PROVIDERS = {
    # Each protocol over both transports (decision 0012): our HTTP client must answer as the SDK does.
    "openai-http": Provider("openai", _OPENAI, _openai_http, openai_wire.request_body, openai_violations),
    "openai-sdk": Provider("openai", _OPENAI, _openai_sdk, openai_wire.request_body, openai_violations),
    "anthropic-http": Provider(
        "anthropic", _ANTHROPIC, _anthropic_http, anthropic_wire.request_body, anthropic_violations
    ),
    "anthropic-sdk": Provider(
        "anthropic", _ANTHROPIC, _anthropic_sdk, anthropic_wire.request_body, anthropic_violations
    ),
}


@dataclass(frozen=True)
class Subject:
    """An adapter under test, with the emulator it talks to."""

    provider: Provider
    adapter: ChatModel
    emulator: EmulatorThread

    @property
    def name(self) -> str:
        return self.provider.name

    def seen(self, status: int | None = None) -> int:
        """Model requests the emulator answered with ``status`` (any status when None)."""
        return self.emulator.app.state.stats.count(self.provider.endpoint, status)

    def violations(self, request: ModelRequest) -> list[str]:
        """What the real API would refuse in the body this adapter sends for ``request``."""
        return self.provider.violations(self.provider.body(request))
