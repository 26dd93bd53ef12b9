"""The in-process transport for a provider endpoint, its key from the SDKs' own variables: our HTTP
client (``http_transport``, the default) or the vendor's SDK (imported when that transport is built:
``sdk_clients``)."""

import os

from agentbatch.domain.lanes import DirectTransport
from agentbatch.providers.catalog import BUILT_IN, ProviderCatalog, WireProtocol
from agentbatch.providers.errors import ProviderRejected
from agentbatch.providers.http_transport import HttpTransport
from agentbatch.providers.sdk_clients import SdkTransport
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


def create_transport(catalog: ProviderCatalog, provider: str, kind: DirectTransport = "http") -> Transport:
    key = api_key(catalog, provider)
    endpoint = catalog.endpoint(provider)
    assert endpoint is not None
    if kind == "http":
        return HttpTransport.of(endpoint.protocol, base_url=endpoint.base_url, api_key=key)
    return SdkTransport(endpoint.protocol, base_url=endpoint.base_url, api_key=key)
