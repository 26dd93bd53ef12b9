"""Further OpenAI-compatible providers (vLLM, Ollama, …) come from a small TOML file."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from letta_client import BadRequestError, Letta

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings


@pytest.fixture
def configured(sqlite_url: str, fresh_emulator: EmulatorThread, tmp_path: Path) -> Iterator[Letta]:
    providers = tmp_path / "providers.toml"
    providers.write_text(
        f'[providers.vllm]\nbase_url = "{fresh_emulator.base_url}/v1"\ncontext_window = 32768\n'
        f'[providers.local-claude]\nprotocol = "anthropic"\nbase_url = "{fresh_emulator.base_url}"\n'
    )
    with ServerThread(live_settings(sqlite_url, providers_file=providers)) as server:
        yield Letta(base_url=server.base_url, max_retries=0)


def test_a_configured_provider_serves_its_models(configured: Letta) -> None:
    vllm = configured.agents.create(model="vllm/llama-3.1-8b")
    claude = configured.agents.create(model="local-claude/claude-local")

    assert vllm.llm_config.context_window == 32768 and vllm.llm_config.api_model_endpoint_type == "openai"
    assert claude.llm_config.api_model_endpoint_type == "anthropic"
    for agent in (vllm, claude):
        reply = configured.agents.messages.create(agent.id, input="hi there")
        assert reply.stop_reason.stop_reason == "end_turn"
        assert reply.messages[0].content == "echo: hi there"


def test_an_unconfigured_provider_is_refused_at_creation(configured: Letta) -> None:
    with pytest.raises(BadRequestError, match="known: anthropic, local-claude, openai, vllm"):
        configured.agents.create(model="ollama/llama3")
