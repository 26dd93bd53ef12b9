"""A live stack for tests: the emulator, and agentbatch servers pointed at it through the SDKs' own
environment variables."""

import pytest

from agentbatch.emulator.server import EmulatorThread


def point_sdks_at(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorThread) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{emulator.base_url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-openai-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-anthropic-key")


def sdk_environment(emulator: EmulatorThread) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": f"{emulator.base_url}/v1",
        "OPENAI_API_KEY": "test-openai-key",
        "ANTHROPIC_BASE_URL": emulator.base_url,
        "ANTHROPIC_API_KEY": "test-anthropic-key",
    }
