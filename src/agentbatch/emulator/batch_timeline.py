"""When a provider batch moves between states, computed from the clock on every read.

Batches advance lazily (no background tasks): each read compares the clock with the batch's
timeline. With ``delay`` = ``batch_delay_s``, a batch validates for 10% of the delay, processes
its requests for the delay (a growing prefix of them is done as time passes), then finalizes for
10% of the delay; a cancellation takes 10% of the delay to settle.
"""

import math
from dataclasses import dataclass
from typing import TypeVar

PHASE_FRACTION = 0.1
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Timeline:
    created_at: float
    delay_s: float
    validates: bool = True

    @property
    def in_progress_at(self) -> float:
        return self.created_at + (self.delay_s * PHASE_FRACTION if self.validates else 0.0)

    @property
    def finalizing_at(self) -> float:
        return self.in_progress_at + self.delay_s

    @property
    def done_at(self) -> float:
        return self.finalizing_at + (self.delay_s * PHASE_FRACTION if self.validates else 0.0)

    def cancel_settles_at(self, cancelled_at: float) -> float:
        return cancelled_at + self.delay_s * PHASE_FRACTION

    def processed(self, total: int, now: float) -> int:
        """How many of ``total`` requests are done at ``now`` (all of them once processing ends)."""
        if now >= self.finalizing_at:
            return total
        if now < self.in_progress_at:
            return 0
        return min(total, math.floor(total * (now - self.in_progress_at) / self.delay_s))


def page_after(
    items: list[_T], ids: list[str], after: str | None, limit: int
) -> tuple[list[_T], bool] | None:
    """The ``limit`` items following the one whose id is ``after`` (from the start when None), and
    whether more follow; None when ``after`` is unknown."""
    start = 0
    if after is not None:
        if after not in ids:
            return None
        start = ids.index(after) + 1
    return items[start : start + limit], start + limit < len(items)


def page_before(items: list[_T], ids: list[str], before: str, limit: int) -> tuple[list[_T], bool] | None:
    """The ``limit`` items immediately preceding the one whose id is ``before``, and whether more
    precede them; None when ``before`` is unknown."""
    if before not in ids:
        return None
    end = ids.index(before)
    start = max(0, end - limit)
    return items[start:end], start > 0
