"""One chat model per provider endpoint, created on first use and shared by every turn: its calls run in
this process (our HTTP client, or the vendor's SDK), or through the SDK in the provider processes when a
pool is given."""

from agentbatch.domain.lanes import DirectTransport
from agentbatch.providers.base import ChatModel
from agentbatch.providers.catalog import ModelHandle, ProviderCatalog
from agentbatch.providers.errors import ProviderRejected
from agentbatch.providers.process_pool.pool import PooledTransport, ProviderProcessPool
from agentbatch.providers.transports import api_key, create_transport
from agentbatch.providers.wire_chat import WIRE_FORMATS, Transport, WireChat


class ProviderRegistry:
    def __init__(
        self,
        catalog: ProviderCatalog,
        pool: ProviderProcessPool | None = None,
        kind: DirectTransport = "http",
    ) -> None:
        self.catalog = catalog
        self.pool = pool
        self.kind = kind
        self._models: dict[str, ChatModel] = {}

    def chat_model(self, handle: ModelHandle) -> ChatModel:
        model = self._models.get(handle.provider)
        if model is None:
            model = self._models[handle.provider] = self._create(handle.provider)
        return model

    def _create(self, provider: str) -> ChatModel:
        endpoint = self.catalog.endpoint(provider)
        if endpoint is None:
            raise ProviderRejected(f"unknown provider {provider!r}")
        transport: Transport
        if self.pool is not None:
            api_key(self.catalog, provider)  # fail here, clearly, if its key is missing
            transport = PooledTransport(self.pool, provider)
        else:
            transport = create_transport(self.catalog, provider, self.kind)
        return WireChat(WIRE_FORMATS[endpoint.protocol], transport)

    def warm_up(self) -> None:
        """Create the chat model of every provider whose key is set, before the first turn needs it."""
        for provider in self.catalog.names:
            try:
                self._models.setdefault(provider, self._create(provider))
            except ProviderRejected:
                continue

    async def close(self) -> None:
        for model in self._models.values():
            await model.close()
        self._models.clear()
        if self.pool is not None:
            await self.pool.close()
