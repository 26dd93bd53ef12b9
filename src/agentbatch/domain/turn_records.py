"""The records of a running turn: the item a worker claimed (``ClaimedItem``) and what the turn hands over
to be written (``Commit``: a step, its messages and memory edits, its end)."""

from dataclasses import dataclass, field
from datetime import datetime

from agentbatch.domain.agents import Block
from agentbatch.domain.lanes import Lane
from agentbatch.domain.messages import Message
from agentbatch.domain.states import StopReason
from agentbatch.domain.turn_requests import TurnRequest


@dataclass(slots=True)
class StepRecord:
    """One model call of a turn and what it cost."""

    step_no: int
    step_id: str
    model: str
    finish: str
    prompt_tokens: int
    completion_tokens: int
    ttft_ns: int
    duration_ns: int
    lane: Lane = Lane.DIRECT
    cached_tokens: int = 0
    """Of ``prompt_tokens``, those read from the provider's prompt cache (priced at ``cached_input``)."""
    cache_write_tokens: int = 0
    """Of ``prompt_tokens``, those written to the prompt cache (priced at ``cache_write_input``)."""


@dataclass(slots=True)
class Commit:
    """What one transaction writes: a step (or none, when a turn ends without one), its messages and
    memory edits, and — when ``stop`` is set — the end of the turn."""

    step: StepRecord | None
    messages: list[Message] = field(default_factory=list)
    changed_blocks: list[Block] = field(default_factory=list)
    stop: StopReason | None = None
    error: str | None = None
    block_bases: dict[str, str] = field(default_factory=dict)
    """Per changed block id, the value the edit started from (so a concurrent API edit can be kept)."""


@dataclass(slots=True)
class ClaimedItem:
    """An item a worker holds the lease of, with what it needs to run the turn."""

    id: str
    batch_id: str | None
    agent_id: str
    owner_id: str
    model: str
    request: TurnRequest
    step_count: int
    lease_owner: str
    started_at: datetime
    batch_created_at: datetime | None = None
    batch_started: bool = False
    """True for the items whose claim moved their batch from created to running."""
