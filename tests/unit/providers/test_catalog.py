"""Model handles and the providers file: which handles a caller may use, and clear refusals otherwise."""

from pathlib import Path

import pytest

from agentbatch.providers.catalog import ModelHandle, ProviderCatalog, ProviderEndpoint, WireProtocol
from tests.unit.providers.conftest import ProvidersFile

VLLM = """
[providers.vllm]
base_url = "http://127.0.0.1:8000/v1"
api_key_env = "VLLM_API_KEY"
context_window = 32768

[providers.proxy]
base_url = "http://127.0.0.1:9000"
protocol = "anthropic"
"""


@pytest.mark.parametrize(
    ("handle", "provider", "model"),
    [
        ("openai/gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("anthropic/claude-haiku-4-5", "anthropic", "claude-haiku-4-5"),
        ("openai/ft:gpt-4o-mini:acme::abc123", "openai", "ft:gpt-4o-mini:acme::abc123"),
        ("openai/org/model/v2", "openai", "org/model/v2"),  # only the first slash splits
    ],
)
def test_a_handle_splits_at_its_first_slash(handle: str, provider: str, model: str) -> None:
    parsed = ProviderCatalog().parse(handle)
    assert parsed == ModelHandle(provider, model)
    assert str(parsed) == handle


@pytest.mark.parametrize("handle", ["gpt-4o-mini", "/gpt-4o-mini", "openai/", "", "/"])
def test_a_handle_without_both_halves_is_refused_with_an_example(handle: str) -> None:
    with pytest.raises(ValueError, match=r"must look like 'provider/model', e\.g\. 'openai/gpt-4o-mini'"):
        ProviderCatalog().parse(handle)


def test_an_unknown_provider_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        ProviderCatalog().parse("mistral/large")
    assert "unknown provider 'mistral'" in str(caught.value)
    assert "known: anthropic, openai" in str(caught.value)


def test_without_a_providers_file_only_openai_and_anthropic_are_served() -> None:
    catalog = ProviderCatalog.from_file(None)
    assert catalog.names == ["anthropic", "openai"]
    assert catalog.endpoint("vllm") is None


def test_the_providers_file_adds_openai_compatible_servers(providers_file: ProvidersFile) -> None:
    catalog = ProviderCatalog.from_file(providers_file(VLLM))
    assert catalog.names == ["anthropic", "openai", "proxy", "vllm"]
    assert catalog.endpoint("vllm") == ProviderEndpoint(
        "vllm", WireProtocol.OPENAI, "http://127.0.0.1:8000/v1", "VLLM_API_KEY", 32768
    )
    assert catalog.endpoint("proxy") == ProviderEndpoint(
        "proxy", WireProtocol.ANTHROPIC, "http://127.0.0.1:9000"
    )
    assert catalog.parse("vllm/llama-3.1-8b") == ModelHandle("vllm", "llama-3.1-8b")


def test_a_providers_file_entry_can_point_a_built_in_provider_elsewhere(
    providers_file: ProvidersFile,
) -> None:
    catalog = ProviderCatalog.from_file(
        providers_file('[providers.openai]\nbase_url = "http://gateway/v1"\n')
    )
    endpoint = catalog.endpoint("openai")
    assert endpoint is not None and endpoint.base_url == "http://gateway/v1"


@pytest.mark.parametrize(
    ("handle", "window"),
    [
        ("openai/gpt-4o", 128_000),
        ("anthropic/claude-sonnet-4-5", 200_000),
        ("vllm/llama", 32_768),
        ("proxy/x", 200_000),
    ],
)
def test_a_models_context_window_is_its_providers_or_its_protocols_default(
    providers_file: ProvidersFile, handle: str, window: int
) -> None:
    catalog = ProviderCatalog.from_file(providers_file(VLLM))
    assert catalog.context_window(catalog.parse(handle)) == window


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('api_key_env = "X"\n', "base_url"),
        ('base_url = "http://h"\nprotocol = "gemini"\n', "protocol"),
        ('base_url = "http://h"\ncontext_window = "big"\n', "context_window"),
        ('base_url = "http://h"\nkey = "oops"\n', "key"),
    ],
)
def test_a_bad_provider_entry_is_refused_at_start_naming_the_provider_and_the_problem(
    providers_file: ProvidersFile, entry: str, problem: str
) -> None:
    with pytest.raises(ValueError) as caught:
        ProviderCatalog.from_file(providers_file("[providers.local]\n" + entry))
    assert "[providers.local]" in str(caught.value)
    assert problem in str(caught.value)


def test_a_providers_file_that_is_not_toml_is_refused(providers_file: ProvidersFile) -> None:
    with pytest.raises(ValueError):
        ProviderCatalog.from_file(providers_file("[providers.vllm\nbase_url = 1\n"))


def test_a_missing_providers_file_is_reported_by_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(FileNotFoundError, match=r"nowhere\.toml"):
        ProviderCatalog.from_file(missing)
