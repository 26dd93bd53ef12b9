"""Attempt numbers per request body (what ``[[error:500:2]]`` counts) and the emulator's request stats."""

from agentbatch.emulator.attempts import AttemptCounter, RequestStats


def test_each_distinct_body_counts_its_own_attempts_from_one() -> None:
    counter = AttemptCounter()
    assert [counter.next(b"a"), counter.next(b"a"), counter.next(b"b"), counter.next(b"a")] == [1, 2, 1, 3]


def test_past_its_capacity_the_oldest_body_is_forgotten_and_starts_again() -> None:
    counter = AttemptCounter(capacity=2)
    counter.next(b"old")
    counter.next(b"old")
    counter.next(b"newer")
    counter.next(b"newest")  # a third distinct body: "old" is dropped
    assert counter.next(b"newer") == 2
    assert counter.next(b"old") == 1


def test_a_repeat_never_evicts_anything() -> None:
    counter = AttemptCounter(capacity=2)
    counter.next(b"a")
    counter.next(b"b")
    for _ in range(5):
        counter.next(b"b")
    assert counter.next(b"a") == 2


def test_clearing_starts_every_body_over() -> None:
    counter = AttemptCounter()
    counter.next(b"a")
    counter.clear()
    assert counter.next(b"a") == 1


def test_stats_count_requests_by_endpoint_and_status() -> None:
    stats = RequestStats()
    for status in (200, 200, 429):
        stats.record("POST /v1/chat/completions", status)
    stats.record("POST /v1/messages", 529)
    assert stats.count("POST /v1/chat/completions") == 3
    assert stats.count("POST /v1/chat/completions", 429) == 1
    assert stats.count("POST /v1/messages", 200) == 0
    assert stats.snapshot() == {
        "POST /v1/chat/completions": {"200": 2, "429": 1},
        "POST /v1/messages": {"529": 1},
    }


def test_the_peak_of_requests_in_flight_is_kept_and_cleared_to_what_is_still_running() -> None:
    stats = RequestStats()
    for _ in range(3):
        stats.started()
    stats.finished()
    stats.finished()
    stats.started()
    assert (stats.in_flight, stats.peak_in_flight) == (2, 3)
    stats.clear()
    assert (stats.in_flight, stats.peak_in_flight, stats.snapshot()) == (2, 2, {})
