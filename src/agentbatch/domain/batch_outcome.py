"""How a batch's terminal ``status`` and ``stop_reason`` follow from what its requests ended with.

The rule (``docs/api.md`` states it for users):

* ``status``: a cancel makes it ``cancelled`` and a passed completion window ``expired``, whatever the
  items did. A batch whose items all ended on their own is ``completed`` if any request succeeded,
  else ``failed`` if any errored, else ``cancelled`` (every request was cancelled one by one, through
  the agent's run cancel or its deletion).
* ``stop_reason`` never names a reason that no request ended with: a ``cancelled`` batch with a
  cancelled request says ``cancelled``; otherwise it is the one stop reason every request ended with,
  and null when they differ or a request has none (an expired one). So an all-``end_turn`` batch
  says ``end_turn``, a batch whose every request hit ``llm_api_error`` is ``failed``/``llm_api_error``,
  and a mixed or expired batch says null; the items carry their own reasons.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason


class BatchEnd(StrEnum):
    """What ended the batch."""

    ITEMS_ENDED = "items_ended"
    CANCEL = "cancel"
    EXPIRY = "expiry"


@dataclass(frozen=True, slots=True)
class ItemOutcomes:
    """How many of a batch's requests ended with each (status, stop reason)."""

    counts: Mapping[tuple[ItemStatus, StopReason | None], int]

    def has(self, status: ItemStatus) -> bool:
        return any(count and item_status is status for (item_status, _), count in self.counts.items())

    def shared_reason(self) -> StopReason | None:
        """The stop reason every request ended with, or None if they differ (or one has none)."""
        reasons = {reason for (_, reason), count in self.counts.items() if count}
        return reasons.pop() if len(reasons) == 1 else None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    status: BatchStatus
    stop_reason: StopReason | None


def batch_outcome(outcomes: ItemOutcomes, end: BatchEnd) -> BatchOutcome:
    status = _status(outcomes, end)
    if status is BatchStatus.CANCELLED and outcomes.has(ItemStatus.CANCELLED):
        return BatchOutcome(status, StopReason.CANCELLED)
    return BatchOutcome(status, outcomes.shared_reason())


def _status(outcomes: ItemOutcomes, end: BatchEnd) -> BatchStatus:
    if end is BatchEnd.CANCEL:
        return BatchStatus.CANCELLED
    if end is BatchEnd.EXPIRY:
        return BatchStatus.EXPIRED
    if outcomes.has(ItemStatus.SUCCEEDED) or not outcomes.counts:
        return BatchStatus.COMPLETED
    if outcomes.has(ItemStatus.ERRORED):
        return BatchStatus.FAILED
    return BatchStatus.CANCELLED


def cancel_error(batch_id: str) -> str:
    """The error a request cancelled with its batch carries."""
    return f"batch cancelled through PATCH /v1/messages/batches/{batch_id}/cancel"


def expiry_error(window: timedelta) -> str:
    """The error an expired request carries: which window passed."""
    return f"completion window of {describe_window(window)} passed before this request ended"


def describe_window(window: timedelta) -> str:
    """``10 s``, ``30 min``, ``24 h``, ``7 d``: the largest unit the window is a whole number of."""
    seconds = round(window.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
