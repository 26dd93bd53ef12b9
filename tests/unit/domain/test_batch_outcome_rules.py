"""The batch-outcome rule as properties over every mix of request outcomes (the examples are in
tests/unit/test_batch_outcome.py): a batch never reports a stop reason no request ended with."""

from hypothesis import given
from hypothesis import strategies as st

from agentbatch.domain.batch_outcome import BatchEnd, ItemOutcomes, batch_outcome
from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason

# what a finished request can end with: a stop reason (and the status it implies) or expiry without one
ENDINGS: list[tuple[ItemStatus, StopReason | None]] = [
    (reason.item_status, reason) for reason in StopReason
] + [(ItemStatus.EXPIRED, None)]

# the store tallies with GROUP BY, so a present (status, reason) always has a count of at least 1
outcomes = st.dictionaries(st.sampled_from(ENDINGS), st.integers(1, 5), max_size=6).map(ItemOutcomes)


def reasons_present(outcome_counts: ItemOutcomes) -> set[StopReason | None]:
    return {reason for (_, reason), count in outcome_counts.counts.items() if count}


def statuses_present(outcome_counts: ItemOutcomes) -> set[ItemStatus]:
    return {status for (status, _), count in outcome_counts.counts.items() if count}


@given(outcomes, st.sampled_from(list(BatchEnd)))
def test_the_batch_stop_reason_is_one_some_request_ended_with(counts: ItemOutcomes, end: BatchEnd) -> None:
    outcome = batch_outcome(counts, end)
    assert outcome.status.is_terminal
    if outcome.stop_reason is not None:
        assert outcome.stop_reason in reasons_present(counts)


@given(outcomes, st.sampled_from(list(BatchEnd)))
def test_a_shared_stop_reason_is_reported_only_when_every_request_ended_with_it(
    counts: ItemOutcomes, end: BatchEnd
) -> None:
    outcome = batch_outcome(counts, end)
    present = reasons_present(counts)
    cancelled_batch = outcome.status is BatchStatus.CANCELLED and ItemStatus.CANCELLED in statuses_present(
        counts
    )
    if not cancelled_batch:
        assert (outcome.stop_reason is not None) == (len(present) == 1 and None not in present)


@given(outcomes)
def test_a_cancel_or_an_expiry_decides_the_status_whatever_the_requests_did(counts: ItemOutcomes) -> None:
    assert batch_outcome(counts, BatchEnd.CANCEL).status is BatchStatus.CANCELLED
    assert batch_outcome(counts, BatchEnd.EXPIRY).status is BatchStatus.EXPIRED


@given(outcomes)
def test_a_batch_whose_requests_ended_fails_only_when_none_succeeded_and_one_errored(
    counts: ItemOutcomes,
) -> None:
    status = batch_outcome(counts, BatchEnd.ITEMS_ENDED).status
    present = statuses_present(counts)
    assert (status is BatchStatus.FAILED) == (
        ItemStatus.SUCCEEDED not in present and ItemStatus.ERRORED in present
    )
    if ItemStatus.SUCCEEDED in present or not present:
        assert status is BatchStatus.COMPLETED
