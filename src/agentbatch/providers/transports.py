"""The in-process transport for a provider endpoint, configured by the SDKs' own variables.

The SDK modules are imported by ``create_transport``, not here: a process that never calls a provider
in-process (the engine with provider processes, an idle server) never loads an SDK (agentbatch.performance).
"""

import os

from agentbatch.providers.catalog import BUILT_IN, ProviderCatalog, WireProtocol
from agentbatch.providers.errors import ProviderRejected
from agentbatch.providers.wire_chat import Transport

_KEY_VARIABLE = {WireProtocol.OPENAI: "OPENAI_API_KEY", WireProtocol.ANTHROPIC: "ANTHROPIC_API_KEY"}


def api_key(catalog: ProviderCatalog, provider: str) -> str:
    """The key to call this provider with; ``ProviderRejected`` naming the variable if it is unset."""
    endpoint = catalog.endpoint(provider)
    if endpoint is None:
        raise ProviderRejected(f"unknown provider {provider!r}")
    if endpoint.api_key_env is not None:
        return os.environ.get(endpoint.api_key_env) or "not-needed"
    if provider not in BUILT_IN:
        return "not-needed"  # a local server (vLLM, Ollama, …) configured without a key
    variable = _KEY_VARIABLE[endpoint.protocol]
    key = os.environ.get(variable)
    if key is None:
        raise ProviderRejected(f"{variable} is not set, so {provider}/… cannot be called")
    return key


def create_transport(catalog: ProviderCatalog, provider: str) -> Transport:
    key = api_key(catalog, provider)
    endpoint = catalog.endpoint(provider)
    assert endpoint is not None
    if endpoint.protocol is WireProtocol.ANTHROPIC:
        from agentbatch.providers.anthropic_chat import AnthropicTransport

        return AnthropicTransport(base_url=endpoint.base_url, api_key=key)
    from agentbatch.providers.openai_chat import OpenAITransport

    return OpenAITransport(base_url=endpoint.base_url, api_key=key)
