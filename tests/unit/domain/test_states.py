"""Batch and item states, and how a turn's stop reason counts in its batch (Letta's run-status mapping)."""

import pytest

from agentbatch.domain.states import (
    UNFINISHED_BATCH_STATUSES,
    UNFINISHED_ITEM_STATUSES,
    BatchStatus,
    ItemStatus,
    StopReason,
)

SUCCESSFUL = {StopReason.END_TURN, StopReason.MAX_STEPS, StopReason.TOOL_RULE, StopReason.REQUIRES_APPROVAL}


@pytest.mark.parametrize("reason", sorted(SUCCESSFUL))
def test_a_turn_that_ended_on_its_own_terms_counts_as_succeeded(reason: StopReason) -> None:
    assert reason.item_status is ItemStatus.SUCCEEDED


def test_a_cancelled_turn_counts_as_cancelled_not_errored() -> None:
    assert StopReason.CANCELLED.item_status is ItemStatus.CANCELLED


@pytest.mark.parametrize("reason", sorted(set(StopReason) - SUCCESSFUL - {StopReason.CANCELLED}))
def test_every_other_stop_reason_counts_as_errored(reason: StopReason) -> None:
    assert reason.item_status is ItemStatus.ERRORED


def test_a_stop_reason_never_leaves_an_item_unfinished() -> None:
    assert {reason.item_status for reason in StopReason}.isdisjoint(UNFINISHED_ITEM_STATUSES)


@pytest.mark.parametrize("status", list(BatchStatus))
def test_a_batch_status_is_either_unfinished_or_terminal(status: BatchStatus) -> None:
    assert status.is_terminal != (status in UNFINISHED_BATCH_STATUSES)


@pytest.mark.parametrize("status", list(ItemStatus))
def test_an_item_status_is_either_unfinished_or_terminal(status: ItemStatus) -> None:
    assert status.is_terminal != (status in UNFINISHED_ITEM_STATUSES)


def test_statuses_and_reasons_are_the_strings_letta_clients_compare_against() -> None:
    # Letta's JobStatus and StopReasonType values: clients switch on these exact strings.
    assert {status.value for status in BatchStatus if status.is_terminal} == {
        "completed",
        "failed",
        "cancelled",
        "expired",
    }
    assert StopReason("end_turn") is StopReason.END_TURN
    assert StopReason("llm_api_error") is StopReason.LLM_API_ERROR
    assert f"{ItemStatus.SUCCEEDED}" == "succeeded"
    with pytest.raises(ValueError):
        StopReason("finished")
