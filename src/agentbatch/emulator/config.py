"""Server-wide knobs of the emulator."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """How the emulator behaves for every request, on top of the per-request directives.

    latency_ms:      base delay before every chat completion / message reply.
    jitter_ms:       extra uniform delay in [0, jitter_ms), drawn from a seeded generator.
    error_rate:      probability in [0, 1] that a model request fails with a random 429/500/503
                     (and 529 on Anthropic paths); each provider-batch line fails the same way.
    seed:            seeds the jitter and the random faults.
    batch_delay_s:   how long a provider batch stays in progress before it ends.
    retry_after_ms:  the delay a 429/503/529 asks for, sent as ``retry-after-ms`` (both SDKs
                     prefer it) and rounded up to whole seconds (at least 1) as ``retry-after``.
    batch_queue_limit: the most requests the unfinished batches of each batch API may hold; past it, an
                     Anthropic create is refused with a 429 ``rate_limit_error`` and an OpenAI batch
                     fails with ``token_limit_exceeded``, as the real APIs do (None: no limit).
    """

    latency_ms: float = 0
    jitter_ms: float = 0
    error_rate: float = 0
    seed: int = 0
    batch_delay_s: float = 1.0
    retry_after_ms: int = 200
    batch_queue_limit: int | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        if not 0 <= self.error_rate <= 1:
            raise ValueError("error_rate must be within [0, 1]")
        if self.batch_delay_s < 0:
            raise ValueError("batch_delay_s must be >= 0")
        if self.retry_after_ms < 0:
            raise ValueError("retry_after_ms must be >= 0")
