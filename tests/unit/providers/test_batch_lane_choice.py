"""Which providers have a batch API the lane may use, and the clear refusal for those that have none."""

import pytest

from agentbatch.providers.anthropic_batches import AnthropicBatches
from agentbatch.providers.batch_apis import create_batch_api
from agentbatch.providers.catalog import ProviderCatalog, WireProtocol
from agentbatch.providers.errors import ProviderRejected
from agentbatch.providers.openai_batches import OpenAIBatches
from agentbatch.providers.provider_batches import lane_protocol, lane_refusal
from tests.unit.providers.conftest import ProvidersFile

EXTRA = """
[providers.vllm]
base_url = "http://127.0.0.1:8000/v1"

[providers.claude-proxy]
base_url = "http://127.0.0.1:9000"
protocol = "anthropic"

[providers.openai]
base_url = "http://gateway.internal/v1"
"""


@pytest.fixture
def catalog(providers_file: ProvidersFile) -> ProviderCatalog:
    return ProviderCatalog.from_file(providers_file(EXTRA))


@pytest.mark.parametrize(
    ("provider", "protocol"), [("openai", WireProtocol.OPENAI), ("anthropic", WireProtocol.ANTHROPIC)]
)
def test_openai_and_anthropic_have_their_own_batch_api(
    catalog: ProviderCatalog, provider: str, protocol: WireProtocol
) -> None:
    assert lane_protocol(catalog, provider) is protocol
    assert lane_refusal(catalog, provider) is None


@pytest.mark.parametrize("provider", ["vllm", "claude-proxy"])
def test_compatible_servers_have_no_batch_api_whatever_protocol_they_speak(
    catalog: ProviderCatalog, provider: str
) -> None:
    assert lane_protocol(catalog, provider) is None
    assert lane_refusal(catalog, provider) == (
        f"provider {provider!r} has no batch API (only openai and anthropic have one)"
    )


def test_an_unconfigured_provider_is_refused_as_such(catalog: ProviderCatalog) -> None:
    assert lane_protocol(catalog, "mistral") is None
    assert lane_refusal(catalog, "mistral") == "provider 'mistral' is not configured"


async def test_each_batch_api_is_reached_like_its_direct_calls(
    catalog: ProviderCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    openai_api = create_batch_api(catalog, "openai")
    anthropic_api = create_batch_api(catalog, "anthropic")
    try:
        assert isinstance(openai_api, OpenAIBatches)
        assert str(openai_api.sdk.base_url).rstrip("/") == "http://gateway.internal/v1"
        assert openai_api.sdk.api_key == "sk-test"
        assert isinstance(anthropic_api, AnthropicBatches)
        assert anthropic_api.sdk.api_key == "sk-ant-test"
    finally:
        for api in (openai_api, anthropic_api):
            if api is not None:
                await api.close()
    assert create_batch_api(catalog, "vllm") is None
    assert create_batch_api(catalog, "mistral") is None


def test_a_batch_api_without_its_key_is_refused_naming_the_variable(
    catalog: ProviderCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ProviderRejected, match="ANTHROPIC_API_KEY is not set"):
        create_batch_api(catalog, "anthropic")
