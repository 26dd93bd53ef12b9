"""Batch records: request counts by status, usage totals, and the error tree's HTTP statuses."""

import pytest

from agentbatch.domain.batches import RequestCounts, Usage
from agentbatch.domain.errors import (
    AgentbatchError,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    StateConflict,
    Unauthorized,
    Unprocessable,
)
from agentbatch.domain.states import ItemStatus


@pytest.mark.parametrize("status", list(ItemStatus))
def test_adding_requests_counts_them_under_their_status_and_in_the_total(status: ItemStatus) -> None:
    counts = RequestCounts()
    counts.add(status, 3)
    counts.add(status, 2)
    assert getattr(counts, status.value) == 5
    assert counts.total == 5
    others = [other for other in ItemStatus if other is not status]
    assert all(getattr(counts, other.value) == 0 for other in others)


def test_request_counts_add_up_to_the_total_across_statuses() -> None:
    counts = RequestCounts()
    for number, status in enumerate(ItemStatus, start=1):
        counts.add(status, number)
    assert counts.total == sum(getattr(counts, status.value) for status in ItemStatus) == 21


def test_usage_totals_prompt_and_completion_and_cached_tokens_are_inside_the_prompt() -> None:
    usage = Usage(
        prompt_tokens=120, completion_tokens=30, step_count=2, cached_tokens=100, cache_write_tokens=20
    )
    assert usage.total_tokens == 150


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound, 404),
        (InvalidRequest, 400),
        (StateConflict, 400),  # not 409: Letta's SDK would retry a 409
        (Unprocessable, 422),
        (PayloadTooLarge, 413),
        (Unauthorized, 401),
        (IdempotencyKeyReused, 422),
        (AgentbatchError, 500),
    ],
)
def test_each_error_carries_its_http_status_and_its_detail(error: type[AgentbatchError], status: int) -> None:
    raised = error("batch job-1 is already completed")
    assert raised.status_code == status
    assert raised.detail == str(raised) == "batch job-1 is already completed"


def test_bad_input_errors_are_all_client_errors_that_callers_can_catch_together() -> None:
    assert issubclass(StateConflict, InvalidRequest) and issubclass(Unprocessable, InvalidRequest)
    client_errors: list[type[AgentbatchError]] = [
        NotFound,
        InvalidRequest,
        StateConflict,
        Unprocessable,
        PayloadTooLarge,
        Unauthorized,
        IdempotencyKeyReused,
    ]
    assert all(400 <= error.status_code < 500 for error in client_errors)
