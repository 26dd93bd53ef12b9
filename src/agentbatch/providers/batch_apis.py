"""The batch API of a provider, if it has one, configured like its direct calls."""

from agentbatch.providers.anthropic_batches import AnthropicBatches
from agentbatch.providers.catalog import ProviderCatalog, WireProtocol
from agentbatch.providers.openai_batches import OpenAIBatches
from agentbatch.providers.provider_batches import BatchApi, lane_protocol
from agentbatch.providers.transports import api_key


def create_batch_api(catalog: ProviderCatalog, provider: str) -> BatchApi | None:
    protocol = lane_protocol(catalog, provider)
    endpoint = catalog.endpoint(provider)
    if protocol is None or endpoint is None:
        return None
    key = api_key(catalog, provider)
    if protocol is WireProtocol.ANTHROPIC:
        return AnthropicBatches(base_url=endpoint.base_url, api_key=key)
    return OpenAIBatches(base_url=endpoint.base_url, api_key=key)
