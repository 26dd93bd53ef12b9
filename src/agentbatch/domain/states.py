"""States of batches and items, Letta's stop reasons, and which transitions are allowed.

Batch (Letta's ``JobStatus``)::

    created ──first item claimed──▶ running ──every item ended──▶ completed | failed | cancelled
       │                               ├──cancel──▶ cancelled
       └───────────────────────────────┴──window passed──▶ expired

Which of them, and the batch's stop reason, follow from its items' outcomes: ``domain.batch_outcome``.

Item (one request of a batch, one agent turn)::

    pending ──claimed──▶ running ──stop reason──▶ succeeded | errored
       ▲                    │
       └──lease expired─────┘          pending | running ──▶ cancelled | expired
"""

from enum import StrEnum


class BatchStatus(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    PENDING = "pending"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_BATCH


_TERMINAL_BATCH = frozenset(
    {BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED, BatchStatus.EXPIRED}
)
UNFINISHED_BATCH_STATUSES = (BatchStatus.CREATED, BatchStatus.PENDING, BatchStatus.RUNNING)


class ItemStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    ERRORED = "errored"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self not in (ItemStatus.PENDING, ItemStatus.RUNNING)


UNFINISHED_ITEM_STATUSES = (ItemStatus.PENDING, ItemStatus.RUNNING)


class StopReason(StrEnum):
    END_TURN = "end_turn"
    ERROR = "error"
    LLM_API_ERROR = "llm_api_error"
    INVALID_LLM_RESPONSE = "invalid_llm_response"
    INVALID_TOOL_CALL = "invalid_tool_call"
    MAX_STEPS = "max_steps"
    MAX_TOKENS_EXCEEDED = "max_tokens_exceeded"
    NO_TOOL_CALL = "no_tool_call"
    TOOL_RULE = "tool_rule"
    CANCELLED = "cancelled"
    REQUIRES_APPROVAL = "requires_approval"
    CONTEXT_WINDOW_OVERFLOW_IN_SYSTEM_PROMPT = "context_window_overflow_in_system_prompt"

    @property
    def item_status(self) -> ItemStatus:
        """How a turn that stopped for this reason counts in a batch (Letta's run-status mapping)."""
        if self in _SUCCESSFUL_STOPS:
            return ItemStatus.SUCCEEDED
        if self is StopReason.CANCELLED:
            return ItemStatus.CANCELLED
        return ItemStatus.ERRORED


_SUCCESSFUL_STOPS = frozenset(
    {StopReason.END_TURN, StopReason.MAX_STEPS, StopReason.TOOL_RULE, StopReason.REQUIRES_APPROVAL}
)
