"""What the runtime needs from outside, as small protocols the engine implements.

The runtime never touches the store: it hands each step to a ``StepSink``, asks a ``ModelGateway`` for
model calls (the engine's gateway bounds concurrency and retries with backoff) and a ``Recall`` for an
agent's whole history when a turn was given only its newest messages.
"""

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from agentbatch.domain.messages import Message
from agentbatch.domain.turn_records import Commit
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle


class TurnAborted(Exception):
    """The turn may not go on: its item was cancelled, or this worker lost the lease."""


class StepSink(Protocol):
    async def commit(self, commit: Commit) -> None:
        """Write atomically, or raise ``TurnAborted`` having written nothing."""
        ...


class ModelGateway(Protocol):
    async def complete(self, handle: ModelHandle, request: ModelRequest) -> ModelResponse:
        """Raises ``ProviderError`` once it has given up (after retries, for transient failures)."""
        ...


class Recall(Protocol):
    def newest_first(self) -> AsyncIterator[Sequence[Message]]:
        """The turn's agent's messages as committed, newest first, a page at a time: a search stops
        reading once it has found enough (``conversation_search``)."""
        ...
