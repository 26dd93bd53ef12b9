"""How a batch's model calls reach the provider: the lane of each step and the dispatch mode of a batch."""

from enum import StrEnum
from typing import Literal

DirectTransport = Literal["http", "sdk"]
"""How a direct call reaches its provider (decision 0012): ``http``, our keep-alive HTTP/1.1 client in
the engine's process; ``sdk``, the vendor's SDK client, run in provider processes."""


class Lane(StrEnum):
    """The road one step took to its provider."""

    DIRECT = "direct"
    """A synchronous call at the provider's full price."""
    PROVIDER_BATCH = "provider_batch"
    """Inside a provider batch (OpenAI Batch API, Anthropic Message Batches), at the batch discount."""


class Dispatch(StrEnum):
    """A batch's choice of lanes (the create body's ``dispatch`` extension field)."""

    DIRECT = "direct"
    """Every step is a direct call (Letta's behaviour, and the default)."""
    PROVIDER_BATCH = "provider_batch"
    """Every step goes through the provider's batch API; the provider is never called directly."""
    AUTO = "auto"
    """The batch lane where the provider has one and the batch's completion window allows, else direct."""
