"""Batches and their items (one item = one request = one agent turn)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentbatch.domain.pricing import CostTotals
from agentbatch.domain.states import BatchStatus, ItemStatus


@dataclass(slots=True)
class RequestCounts:
    total: int = 0
    pending: int = 0
    running: int = 0
    succeeded: int = 0
    errored: int = 0
    cancelled: int = 0
    expired: int = 0

    def add(self, status: ItemStatus, count: int) -> None:
        setattr(self, status.value, getattr(self, status.value) + count)
        self.total += count


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    step_count: int = 0
    cached_tokens: int = 0
    """Of ``prompt_tokens``, those read from the providers' prompt caches."""
    cache_write_tokens: int = 0
    """Of ``prompt_tokens``, those written to the providers' prompt caches."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class Batch:
    id: str
    owner_id: str
    status: BatchStatus
    request_count: int
    created_at: datetime
    updated_at: datetime
    stop_reason: str | None = None
    metadata: dict[str, Any] | None = None
    callback_url: str | None = None
    callback_sent_at: datetime | None = None
    callback_status_code: int | None = None
    callback_error: str | None = None
    expires_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    ttft_ns: int | None = None
    total_duration_ns: int | None = None
    last_updated_by_id: str | None = None
    dispatch: str = "direct"
    """``domain.lanes.Dispatch``: how the batch's steps reach their provider."""
    counts: RequestCounts = field(default_factory=RequestCounts)
    usage: Usage = field(default_factory=Usage)
    priority: int = 0
    cost: CostTotals = field(default_factory=CostTotals)
    agent_id: str | None = None
    """The agent every request of the batch addresses; None when they address several."""


@dataclass(slots=True)
class BatchItem:
    id: str
    batch_id: str | None
    agent_id: str
    position: int
    status: ItemStatus
    step_count: int
    created_at: datetime
    stop_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    ttft_ns: int | None = None
    duration_ns: int | None = None
    error: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    custom_id: str | None = None
    attempts: int = 0
    """Claims of the item plus resubmissions of its steps in the provider-batch lane."""
    cost: CostTotals = field(default_factory=CostTotals)
