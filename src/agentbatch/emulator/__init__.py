"""``agentbatch mock-llm``: a deterministic emulator of the OpenAI and Anthropic APIs.

Stand-alone: it imports nothing from the rest of agentbatch. See docs/mock-llm.md.
"""

from agentbatch.emulator.config import EmulatorConfig

__all__ = ["EmulatorConfig"]
