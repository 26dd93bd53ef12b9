"""Everything the emulator remembers, created once per app."""

from dataclasses import dataclass

from agentbatch.emulator.anthropic_protocol import AnthropicMessagesProtocol
from agentbatch.emulator.attempts import AttemptCounter, RequestStats
from agentbatch.emulator.batches_anthropic import AnthropicBatchStore
from agentbatch.emulator.batches_openai import OpenAIBatchStore
from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.files import FileStore
from agentbatch.emulator.openai_protocol import OpenAIChatProtocol
from agentbatch.emulator.responder import Responder


@dataclass(slots=True)
class EmulatorState:
    config: EmulatorConfig
    attempts: AttemptCounter
    stats: RequestStats
    files: FileStore
    openai: Responder
    anthropic: Responder
    openai_batches: OpenAIBatchStore
    anthropic_batches: AnthropicBatchStore

    @classmethod
    def create(cls, config: EmulatorConfig) -> "EmulatorState":
        attempts = AttemptCounter()
        files = FileStore()
        openai = Responder(OpenAIChatProtocol(), config, attempts)
        anthropic = Responder(AnthropicMessagesProtocol(), config, attempts)
        batch_anthropic = Responder(AnthropicMessagesProtocol(service_tier="batch"), config, attempts)
        return cls(
            config=config,
            attempts=attempts,
            stats=RequestStats(),
            files=files,
            openai=openai,
            anthropic=anthropic,
            openai_batches=OpenAIBatchStore(
                openai, files, config.batch_delay_s, queue_limit=config.batch_queue_limit
            ),
            anthropic_batches=AnthropicBatchStore(
                batch_anthropic, config.batch_delay_s, queue_limit=config.batch_queue_limit
            ),
        )

    def reset(self) -> None:
        """Forget attempts, statistics, files and batches (the configuration stays)."""
        self.attempts.clear()
        self.stats.clear()
        self.files.clear()
        self.openai_batches.clear()
        self.anthropic_batches.clear()
