"""The batch API of a provider, if it has one, configured like its direct calls. Its SDK is imported
when the first batch API is built, not before (agentbatch.performance)."""

from agentbatch.providers.catalog import ProviderCatalog, WireProtocol
from agentbatch.providers.provider_batches import BatchApi, lane_protocol
from agentbatch.providers.transports import api_key


def create_batch_api(catalog: ProviderCatalog, provider: str) -> BatchApi | None:
    protocol = lane_protocol(catalog, provider)
    endpoint = catalog.endpoint(provider)
    if protocol is None or endpoint is None:
        return None
    key = api_key(catalog, provider)
    if protocol is WireProtocol.ANTHROPIC:
        from agentbatch.providers.anthropic_batches import AnthropicBatches

        return AnthropicBatches(base_url=endpoint.base_url, api_key=key)
    from agentbatch.providers.openai_batches import OpenAIBatches

    return OpenAIBatches(base_url=endpoint.base_url, api_key=key)
