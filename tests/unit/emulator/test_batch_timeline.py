"""When an emulated provider batch moves on, read from the clock alone, and how its listings page."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbatch.emulator.batch_timeline import Timeline, page_after, page_before

TIMELINE = Timeline(created_at=1_000.0, delay_s=10.0)


def test_a_batch_validates_then_processes_for_the_delay_then_finalizes() -> None:
    assert (TIMELINE.in_progress_at, TIMELINE.finalizing_at, TIMELINE.done_at) == (1_001.0, 1_011.0, 1_012.0)


def test_a_batch_that_skips_validation_starts_and_ends_its_processing_on_time() -> None:
    quick = Timeline(created_at=1_000.0, delay_s=10.0, validates=False)
    assert (quick.in_progress_at, quick.finalizing_at, quick.done_at) == (1_000.0, 1_010.0, 1_010.0)


def test_a_cancellation_settles_after_a_tenth_of_the_delay() -> None:
    assert TIMELINE.cancel_settles_at(1_005.0) == 1_006.0


@pytest.mark.parametrize(
    ("now", "done"),
    [
        (999.0, 0),
        (1_000.5, 0),
        (1_001.0, 0),
        (1_002.0, 10),
        (1_006.0, 50),
        (1_010.99, 99),
        (1_011.0, 100),
        (2_000.0, 100),
    ],
)
def test_a_growing_share_of_the_requests_is_done_while_the_batch_processes(now: float, done: int) -> None:
    assert TIMELINE.processed(100, now) == done


def test_a_batch_without_delay_is_done_at_once() -> None:
    instant = Timeline(created_at=5.0, delay_s=0.0)
    assert instant.done_at == 5.0
    assert instant.processed(7, 5.0) == 7


@given(
    total=st.integers(0, 10_000),
    delay=st.floats(0.01, 1_000),
    moments=st.lists(st.floats(-10, 2_000), min_size=2, max_size=10),
)
def test_done_requests_never_go_back_and_never_exceed_the_batch(
    total: int, delay: float, moments: list[float]
) -> None:
    timeline = Timeline(created_at=0.0, delay_s=delay)
    counts = [timeline.processed(total, now) for now in sorted(moments)]
    assert counts == sorted(counts)
    assert all(0 <= count <= total for count in counts)
    assert timeline.processed(total, timeline.finalizing_at) == total


ITEMS = ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(
    ("after", "limit", "page", "more"),
    [
        (None, 2, ["a", "b"], True),
        (None, 5, ITEMS, False),
        (None, 10, ITEMS, False),
        ("b", 2, ["c", "d"], True),
        ("c", 2, ["d", "e"], False),
        ("e", 2, [], False),
    ],
)
def test_paging_after_an_item(after: str | None, limit: int, page: list[str], more: bool) -> None:
    assert page_after(ITEMS, ITEMS, after, limit) == (page, more)


@pytest.mark.parametrize(
    ("before", "limit", "page", "more"),
    [
        ("e", 2, ["c", "d"], True),
        ("c", 2, ["a", "b"], False),
        ("c", 5, ["a", "b"], False),
        ("a", 3, [], False),
    ],
)
def test_paging_before_an_item(before: str, limit: int, page: list[str], more: bool) -> None:
    assert page_before(ITEMS, ITEMS, before, limit) == (page, more)


def test_an_unknown_cursor_is_not_a_page() -> None:
    assert page_after(ITEMS, ITEMS, "zz", 2) is None
    assert page_before(ITEMS, ITEMS, "zz", 2) is None


@given(st.integers(0, 30), st.integers(1, 7))
def test_following_the_after_cursor_visits_every_item_once_in_order(count: int, limit: int) -> None:
    ids = [f"batch_{n}" for n in range(count)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        result = page_after(ids, ids, cursor, limit)
        assert result is not None
        page, more = result
        seen.extend(page)
        if not more:
            break
        cursor = page[-1]
    assert seen == ids
