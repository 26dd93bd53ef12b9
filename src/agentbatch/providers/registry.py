"""One SDK client per provider endpoint, created on first use and shared by every turn."""

import os

from agentbatch.providers.anthropic_chat import AnthropicChat
from agentbatch.providers.base import ChatModel
from agentbatch.providers.catalog import ModelHandle, ProviderCatalog, WireProtocol
from agentbatch.providers.errors import ProviderRejected
from agentbatch.providers.openai_chat import OpenAIChat

_KEY_VARIABLE = {WireProtocol.OPENAI: "OPENAI_API_KEY", WireProtocol.ANTHROPIC: "ANTHROPIC_API_KEY"}


class ProviderRegistry:
    def __init__(self, catalog: ProviderCatalog) -> None:
        self.catalog = catalog
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
        api_key: str | None
        if endpoint.api_key_env is not None:
            api_key = os.environ.get(endpoint.api_key_env) or "not-needed"
        else:
            api_key = os.environ.get(_KEY_VARIABLE[endpoint.protocol])
            if api_key is None:
                raise ProviderRejected(
                    f"{_KEY_VARIABLE[endpoint.protocol]} is not set, so {provider}/… cannot be called"
                )
        if endpoint.protocol is WireProtocol.ANTHROPIC:
            return AnthropicChat(base_url=endpoint.base_url, api_key=api_key)
        return OpenAIChat(base_url=endpoint.base_url, api_key=api_key)

    async def close(self) -> None:
        for model in self._models.values():
            await model.close()
        self._models.clear()
