"""A batch's terminal status and stop reason, from what its requests ended with."""

from datetime import timedelta

import pytest

from agentbatch.domain.batch_outcome import (
    BatchEnd,
    BatchOutcome,
    ItemOutcomes,
    batch_outcome,
    describe_window,
)
from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason

OK = (ItemStatus.SUCCEEDED, StopReason.END_TURN)
MAX_STEPS = (ItemStatus.SUCCEEDED, StopReason.MAX_STEPS)
API_ERROR = (ItemStatus.ERRORED, StopReason.LLM_API_ERROR)
BAD_TOOL = (ItemStatus.ERRORED, StopReason.INVALID_TOOL_CALL)
CANCELLED = (ItemStatus.CANCELLED, StopReason.CANCELLED)
EXPIRED = (ItemStatus.EXPIRED, None)


@pytest.mark.parametrize(
    ("ended", "end", "expected"),
    [
        ([OK, OK], BatchEnd.ITEMS_ENDED, BatchOutcome(BatchStatus.COMPLETED, StopReason.END_TURN)),
        ([OK, MAX_STEPS], BatchEnd.ITEMS_ENDED, BatchOutcome(BatchStatus.COMPLETED, None)),
        ([OK, API_ERROR], BatchEnd.ITEMS_ENDED, BatchOutcome(BatchStatus.COMPLETED, None)),
        (
            [API_ERROR, API_ERROR],
            BatchEnd.ITEMS_ENDED,
            BatchOutcome(BatchStatus.FAILED, StopReason.LLM_API_ERROR),
        ),
        ([API_ERROR, BAD_TOOL], BatchEnd.ITEMS_ENDED, BatchOutcome(BatchStatus.FAILED, None)),
        ([API_ERROR, CANCELLED], BatchEnd.ITEMS_ENDED, BatchOutcome(BatchStatus.FAILED, None)),
        (
            [CANCELLED, CANCELLED],
            BatchEnd.ITEMS_ENDED,
            BatchOutcome(BatchStatus.CANCELLED, StopReason.CANCELLED),
        ),
        ([OK, CANCELLED], BatchEnd.CANCEL, BatchOutcome(BatchStatus.CANCELLED, StopReason.CANCELLED)),
        ([OK, OK], BatchEnd.CANCEL, BatchOutcome(BatchStatus.CANCELLED, StopReason.END_TURN)),
        ([OK, EXPIRED], BatchEnd.EXPIRY, BatchOutcome(BatchStatus.EXPIRED, None)),
        ([EXPIRED, EXPIRED], BatchEnd.EXPIRY, BatchOutcome(BatchStatus.EXPIRED, None)),
    ],
)
def test_a_batch_ends_with_what_its_requests_ended_with(
    ended: list[tuple[ItemStatus, StopReason | None]], end: BatchEnd, expected: BatchOutcome
) -> None:
    tally: dict[tuple[ItemStatus, StopReason | None], int] = {}
    for outcome in ended:
        tally[outcome] = tally.get(outcome, 0) + 1

    assert batch_outcome(ItemOutcomes(tally), end) == expected


@pytest.mark.parametrize(
    ("window", "said"),
    [
        (timedelta(seconds=10), "10 s"),
        (timedelta(seconds=90), "90 s"),
        (timedelta(minutes=30), "30 min"),
        (timedelta(hours=24), "1 d"),
        (timedelta(hours=36), "36 h"),
    ],
)
def test_a_completion_window_is_named_in_its_largest_whole_unit(window: timedelta, said: str) -> None:
    assert describe_window(window) == said
